"""The annual report in real Chromium: the demo's last whole fiscal year, final, with its base
year; an engineer sees their teams' figures; the PDF reads back the API's figures."""

import json
import re
from datetime import date

import pytest

from reports.management.commands.seed_demo import last_whole_fiscal_year
from tests.browser.conftest import ARTIFACTS
from tests.reports.test_audit_pdf import pdf_text

pytestmark = pytest.mark.usefixtures("demo")


def annual_api(page, start_year: int) -> dict:
    url = f"{page.base_url}/api/v1/reports/annual/?fiscal_year={start_year}"
    return json.loads(page.context.request.get(url).body())


def test_the_esg_officer_reads_the_final_fiscal_year_against_its_base_year(page):
    year = last_whole_fiscal_year(date.today())
    page.log_in("esg")
    page.open("/reports/")
    page.tab.get_by_role("link", name="Annual report by fiscal year").click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.url.endswith(f"/reports/annual/{year.start_year}/")
    heading = page.tab.get_by_role("heading", level=1)
    assert heading.inner_text() == f"Annual report · {year.label}"
    assert page.tab.locator("[data-status]").inner_text() == "Final: all four quarters locked"
    body = annual_api(page, year.start_year)
    assert body["status"] == "final"
    figures = body["year"]["figures"]
    table = page.tab.locator("#annual-table")
    for key in ("scope2_location_t", "scope2_market_t", "total_location_t", "energy_mwh"):
        cell = table.locator(f"tr[data-figure={key}] td[data-period=year]")
        assert cell.inner_text() == f"{figures[key]:,.3f}", key
    # Each quarter's column is its locked Scope 2 report: open one from the table's links.
    first = body["quarters"][0]
    q1 = table.locator("tr[data-figure=scope2_location_t] td[data-period=q1]").inner_text()
    assert q1 == f"{first['figures']['scope2_location_t']:,.3f}"
    base = body["base_year"]
    assert base["label"] == year.shifted(-1).label
    header = table.locator("thead").inner_text()
    assert f"Base year {base['label']}" in header
    page.screenshot("annual-final")
    page.tab.get_by_role("link", name=first["calendar_quarter"]).click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.locator("[data-kpi=location]").inner_text() == q1
    assert page.tab.locator("[data-status=locked]").inner_text() == "Locked, version 1"


def test_the_pdf_reads_back_the_apis_figures(page):
    year = last_whole_fiscal_year(date.today())
    page.log_in("auditor")
    page.open(f"/reports/annual/{year.start_year}/")
    with page.tab.expect_download() as download_info:
        page.tab.get_by_role("link", name="PDF").click()
    download = download_info.value
    ARTIFACTS.mkdir(exist_ok=True)
    saved = ARTIFACTS / download.suggested_filename
    download.save_as(saved)
    text = " ".join(pdf_text(saved.read_bytes()).split())
    body = annual_api(page, year.start_year)
    assert f"Annual report · {year.label}" in text
    assert "final: all four quarters locked" in text
    for key, value in body["year"]["figures"].items():
        if key != "record_count":
            assert f"{value:,.3f}" in text, key
    assert not re.search(r"\bNone\b|scope2_|_t\b", text)


def test_an_engineer_sees_their_teams_live_figures(page):
    year = last_whole_fiscal_year(date.today())
    page.log_in("engineer")
    page.open(f"/reports/annual/{year.start_year}/")
    assert page.tab.locator("[data-status]").inner_text() == "Live figures of your teams only"
    body = annual_api(page, year.start_year)
    assert body["teams_limited"] is True
    energy = page.tab.locator("tr[data-figure=energy_mwh] td[data-period=year]").inner_text()
    assert energy == f"{body['year']['figures']['energy_mwh']:,.3f}"
    page.screenshot("annual-engineer")
