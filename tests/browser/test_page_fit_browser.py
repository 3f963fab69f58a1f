"""Pages as a reader sees them at a 1366 px wide screen: wide tables scroll inside their card
instead of stretching the page, and a long record id does not take the record table's room."""

import pytest

from accounts.models import Organisation
from inventory.llm.estimation import llm_usage_estimate

pytestmark = pytest.mark.usefixtures("demo")

ROW_ID_MAX_PX = 12 * 16  # #records th[scope="row"] max-width: 12rem at the 16 px root font


def test_wide_tables_stay_inside_the_page_and_long_ids_wrap(page):
    page.log_in("auditor")
    page.open("/reports/2026/Q3/")
    # The dual and breakdown tables (a column per figure) once ran 500 px past the cards.
    widths = page.tab.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    assert page.tab.locator(".table-wrap > #dual-table").count() == 1
    page.screenshot("scope2-fits")

    # As the worker would: the browser lists computed (estimated) records by default.
    llm_usage_estimate(organisation_id=Organisation.objects.get(slug="demo").id)
    page.open("/records/?kind=llm-usage")
    # Trace:span ids are ~50 characters: unbroken, they took 40 % of the table.
    cell = page.tab.locator("#records tbody th[scope=row]").first
    assert len(cell.inner_text()) > 40
    assert cell.bounding_box()["width"] <= ROW_ID_MAX_PX
    day = page.tab.locator("#records tbody td").first
    # One line of text, not "2026-" / "12-05" (a cell is as tall as its row: count lines).
    lines = day.evaluate(
        "td => { const r = document.createRange(); r.selectNodeContents(td);"
        " return r.getClientRects().length; }"
    )
    assert lines == 1
    page.screenshot("records-llm-usage-fits")
