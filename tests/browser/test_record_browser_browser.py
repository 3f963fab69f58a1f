"""The record browser in real Chromium: an auditor goes from a team line of the overview to
its records, opens one, recomputes it from what the page shows, opens its batch and downloads
the records as CSV; an engineer cannot open another team's record."""

import csv
import re

import pytest

from inventory.models import WorkloadRecord

pytestmark = pytest.mark.usefixtures("demo")


def figure(page, selector: str) -> float:
    return float(page.tab.locator(selector).first.inner_text().split()[0].replace(",", ""))


def test_an_auditor_walks_from_a_team_line_to_a_record_and_recomputes_it(page):
    page.log_in("auditor")
    line = page.tab.locator("#teams-table tbody tr").filter(has_text="Research")
    line.get_by_title("The records behind this line").click()
    page.tab.wait_for_load_state("networkidle")
    assert re.search(r"/records/\?.*team=\d+", page.tab.url)
    assert page.tab.locator("#active-filters").inner_text().startswith("team Research")
    assert page.tab.locator("#records tbody tr").count() >= 1
    page.screenshot("records-research")

    page.tab.locator("#records tbody tr th a").first.click()
    page.tab.wait_for_load_state("networkidle")
    record = WorkloadRecord.objects.get(pk=int(page.tab.url.rstrip("/").rsplit("/", 1)[1]))
    assert record.team.name == "Research"
    it_kwh = figure(page, '[data-step="1"]')
    facility_kwh = figure(page, '[data-step="2"]')
    kg = figure(page, '[data-step="3"]')
    # What an auditor does: facility = IT × PUE, kg = facility × factor, from the page's rows.
    assert facility_kwh == pytest.approx(it_kwh * record.pue_used, rel=1e-5)
    assert kg == pytest.approx(facility_kwh * record.location_kg_per_kwh, rel=1e-5, abs=1e-6)
    assert page.tab.locator('[data-lineage="grid-factor"]').count() == 1
    page.screenshot("record-detail")

    page.tab.get_by_role("link", name=f"Batch {record.batch_id}").click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.get_by_role("heading", level=1).inner_text() == f"Batch {record.batch_id}"
    # The research team's newest records come from the seed or from its GPU meter's pull.
    source = page.tab.locator('[data-batch="source"]').inner_text()
    assert source == record.batch.get_source_display(), source
    assert source.startswith(("Demo seed", "Prometheus GPU energy meters"))


def test_the_csv_holds_every_record_of_the_filter(page):
    page.log_in("auditor")
    page.tab.locator("#teams-table tbody tr").first.get_by_title(
        "The records behind this line"
    ).click()
    page.tab.wait_for_load_state("networkidle")
    count = int(page.tab.locator('[data-total="records"]').inner_text().replace(",", ""))
    with page.tab.expect_download() as info:
        page.tab.get_by_role("link", name="Download all as CSV").click()
    with open(info.value.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == count
    kg = float(page.tab.locator('[data-total="location-kg"]').inner_text().replace(",", ""))
    assert sum(float(r["location_kg"]) for r in rows) == pytest.approx(kg, abs=0.001)


def test_an_engineer_cannot_open_another_teams_record(page):
    other = WorkloadRecord.objects.filter(team__name="Research").first()
    page.log_in("engineer")
    assert page.refused(f"/records/workloads/{other.id}/") == 404
