"""The reporting boundary in real Chromium: the admin changes it on the settings page and the
auditor reads it there, as the audit PDF's cover will state it; the report page's values
written for people."""

import re
from datetime import date

import pytest

from accounts.models import Organisation
from greenai_portal import periods

pytestmark = pytest.mark.usefixtures("demo")


def test_the_admin_states_the_boundary_and_the_auditor_reads_it(page):
    page.log_in("admin")
    page.open("/settings/teams/")
    form = page.tab.get_by_role("form", name="Reporting boundary")
    # The demo seeds it: the form shows what the PDF's cover states.
    assert "Paris DC1" in form.get_by_label("Organisational boundary").input_value()
    form.get_by_label("Consolidation approach").select_option(label="Financial control")
    form.get_by_label("Exclusions and their reasons (one a line)").fill(
        "Office laptops: under 1 % of electricity\nEmbodied emissions: no supplier data"
    )
    form.get_by_role("button", name="Save reporting boundary").click()
    page.tab.wait_for_load_state("networkidle")
    assert "Reporting boundary saved" in page.tab.content()
    page.screenshot("settings-reporting-boundary-admin")
    demo = Organisation.objects.get(slug="demo")
    assert demo.consolidation_approach == "financial_control"
    assert demo.reporting_exclusions.splitlines() == [
        "Office laptops: under 1 % of electricity",
        "Embodied emissions: no supplier data",
    ]

    page.context.clear_cookies()
    page.log_in("auditor")
    page.open("/settings/teams/")
    section = page.tab.locator("section[aria-labelledby=reporting-title]")
    assert section.get_by_role("form").count() == 0
    text = section.inner_text()
    assert "Financial control" in text
    assert "Embodied emissions: no supplier data" in text
    page.screenshot("settings-reporting-boundary-auditor")


def test_the_report_page_writes_instrument_validity_as_people_do(page):
    year, quarter = periods.previous_quarter(*periods.quarter_of(date.today()))
    page.log_in("auditor")
    page.open(f"/reports/{year}/Q{quarter}/")
    validity = page.tab.locator("#instruments-table tbody tr td:nth-child(4)").all_inner_texts()
    assert validity, "the demo has instruments"
    for text in validity:
        # "1 Jan 2026 to 31 Dec 2026", never ISO dates.
        assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4} to \d{1,2} [A-Z][a-z]{2} \d{4}", text), (
            text
        )
    page.screenshot("report-page-auditor")
    # The calculation trace behind the page's lines, as the PDF's Annex A has it.
    href = page.tab.get_by_role("link", name="Calculation trace (JSON)").get_attribute("href")
    trace = page.context.request.get(page.base_url + href).json()
    assert trace["lines"] and all(line["agrees"] for line in trace["lines"])
