"""The workflows in real Chromium: upload a CSV and watch its import reach 100 %, close a
quarter with two people (the ESG officer prepares and cannot approve it, the admin sends back,
then approves; the controls are absent for other roles), generate and download the audit PDF,
whose text carries the API's figures and the sign-off of the demo's closed quarter."""

import json
import re
import threading
import time
from datetime import date

import pytest
from django.db import connection

from inventory.imports.services import import_job_run
from inventory.tasks import run_import_job
from tests.browser.conftest import ARTIFACTS
from tests.reports.test_audit_pdf import pdf_text

pytestmark = pytest.mark.usefixtures("demo", "eager_celery")

QUARTER = "/reports/2026/Q3/"
IMPORT_ROWS = 300


def portal_csv(rows: int) -> str:
    lines = ["external_id,team,model,phase,started_at,ended_at,location,hardware,device_count"]
    for i in range(rows):
        day = 1 + i % 28
        lines.append(
            f"upload-{i},applied-ml,atlas-7b,training,2026-10-{day:02d}T00:00:00Z,"
            f"2026-10-{day:02d}T02:00:00Z,paris-dc1,nvidia-h100-sxm,{1 + i % 8}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def slow_worker(monkeypatch):
    """The import task run by a worker thread that starts a moment after the upload, as a
    Celery worker picks a queued job: the page has to poll to see it progress."""

    def deliver(job_id: int) -> None:
        def work() -> None:
            time.sleep(2)
            try:
                import_job_run(job_id=job_id)
            finally:
                connection.close()

        threading.Thread(target=work, daemon=True).start()

    monkeypatch.setattr(run_import_job, "delay", deliver)


def test_an_upload_shows_its_progress_until_100_percent(page, slow_worker, tmp_path):
    upload = tmp_path / "october.csv"
    upload.write_text(portal_csv(IMPORT_ROWS))
    page.log_in("engineer")
    page.open("/data/")
    page.tab.get_by_role("link", name="Import a CSV file").click()
    page.tab.wait_for_load_state("networkidle")

    page.tab.get_by_label("File", exact=True).set_input_files(str(upload))
    page.tab.get_by_label("Format").select_option(label="Portal workloads CSV")
    page.tab.get_by_role("button", name="Upload and import").click()
    page.tab.wait_for_selector("#import-status:not([hidden])")
    bar = page.tab.locator("#import-progress")
    status = page.tab.locator('#import-status [data-field="status"]')
    # Accepted and waiting for the worker: the bar starts below 100 %.
    assert (status.inner_text(), bar.evaluate("b => b.value")) == ("queued", 0)

    # Not wait_for_function: it polls with eval, which the page's CSP refuses.
    from playwright.sync_api import expect

    expect(status).to_have_text("completed", timeout=60_000)
    assert bar.evaluate("b => b.value") == 1
    assert page.tab.locator('#import-status [data-field="percent"]').inner_text() == "100 %"
    summary = page.tab.locator('#import-status [data-field="summary"]').inner_text()
    assert summary.startswith(f"{IMPORT_ROWS} records stored"), summary
    page.screenshot("import-completed")


def test_two_people_close_the_running_quarter_and_other_roles_see_no_control(page):
    today = date.today()
    label = f"{today.year} Q{(today.month - 1) // 3 + 1}"
    report = f"/reports/{label.replace(' ', '/')}/"
    close = re.compile("^(Prepare the close|Review and approve|Lock )")
    for username in ("engineer", "auditor"):
        page.log_in(username)
        page.open(report)
        assert page.tab.get_by_role("link", name=close).count() == 0
        assert page.tab.get_by_role("button", name=close).count() == 0
        page.context.clear_cookies()

    # The ESG officer prepares: what the lock would freeze, why now, a note for the approver.
    page.log_in("esg")
    page.open(report)
    assert page.tab.locator("[data-status]").first.inner_text() == "Draft: not locked"
    location_t = page.tab.locator("[data-kpi=location]").inner_text()
    page.screenshot("close-1-draft")
    page.tab.get_by_role("link", name=f"Prepare the close of {label}…").click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.get_by_role("heading", name=f"{label} has not ended").is_visible()
    assert page.tab.locator("[data-confirm=location]").inner_text() == f"{location_t} t CO2e"
    page.tab.get_by_label("Reason for locking early (required)").fill("Board pack due this week")
    page.tab.get_by_label("Note for the approver (required)").fill("Meters read on 4 Dec")
    page.screenshot("close-2-prepare")
    page.tab.get_by_role("button", name=f"Prepare {label} for approval").click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.get_by_text(f"{label} is prepared for closing").count() == 1
    assert page.tab.locator("[data-close-status=pending]").is_visible()
    assert page.tab.get_by_role("link", name=f"Review and approve {label}…").count() == 0
    page.screenshot("close-3-waiting-preparer")
    # The preparer's own approval is refused: the close page offers them nothing to approve,
    # and posting the approval anyway (as a hand-made form would) locks nothing.
    page.open(report + "lock/")
    assert page.tab.locator("[data-close=own]").is_visible()
    assert page.tab.get_by_role("button", name=f"Approve and lock {label}").count() == 0
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.context.request.post(
        page.base_url + report + "close/approve/",
        form={"csrfmiddlewaretoken": csrf, "comment": "my own"},
        headers={"Referer": page.base_url + report},
    )
    assert "a second person (an admin or another ESG officer) must approve it" in refused.text()
    page.open(report)
    assert page.tab.locator("[data-status]").first.inner_text() == "Draft: not locked"
    page.context.clear_cookies()

    # The admin reviews and sends it back with a comment: nothing is locked.
    page.log_in("admin")
    page.open(report)
    page.tab.get_by_role("link", name=f"Review and approve {label}…").click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.locator("[data-close=note]").inner_text() == "Meters read on 4 Dec"
    page.screenshot("close-4-review")
    page.tab.get_by_label("What needs to change (required)").fill("Add the colocation PUE")
    page.tab.get_by_role("button", name="Send back to esg").click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.locator("[data-status]").first.inner_text() == "Draft: not locked"
    assert page.tab.locator("tr[data-close-row=sent_back]").inner_text().count("Add the") == 1
    page.screenshot("close-5-sent-back")
    page.context.clear_cookies()

    # Prepared again; the admin approves, which locks it as version 1 in both names.
    page.log_in("esg")
    page.open(report)
    page.tab.get_by_role("link", name=f"Prepare the close of {label}…").click()
    page.tab.wait_for_load_state("networkidle")
    page.tab.get_by_label("Reason for locking early (required)").fill("Board pack due this week")
    page.tab.get_by_label("Note for the approver (required)").fill("Colocation PUE added")
    page.tab.get_by_role("button", name=f"Prepare {label} for approval").click()
    page.tab.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    page.log_in("admin")
    page.open(report)
    page.tab.get_by_role("link", name=f"Review and approve {label}…").click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.get_by_role("heading", name=f"Approve and lock {label}?").is_visible()
    page.tab.get_by_label("Comment (optional)").fill("Matches finance")
    page.tab.get_by_role("button", name=f"Approve and lock {label}").click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.locator("[data-status=locked]").inner_text() == "Locked, version 1"
    assert page.tab.get_by_text(f"{label} is approved and locked as version 1.").count() == 1
    approved = page.tab.locator("tr[data-close-row=approved]").inner_text()
    assert "esg (ESG officer)" in approved and "admin (Admin)" in approved
    assert "Matches finance" in approved
    assert page.tab.get_by_text("Board pack due this week").count() == 1  # the versions table
    page.screenshot("close-6-locked")


def test_a_quarter_without_data_says_so_instead_of_drawing_empty_axes(page):
    page.log_in("esg")
    page.open("/reports/2023/Q2/")  # before the demo's records (they start in 2024)
    # The instruments' coverage and the teams have nothing; the monthly trend still has its
    # 24 months (at zero here), so it is drawn.
    empty = page.tab.locator(".chart[data-empty]")
    assert [c.get_attribute("id") for c in empty.all()] == ["coverage-chart", "teams-chart"]
    assert empty.first.inner_text() == "Nothing to chart for this period."
    assert page.tab.locator(".chart svg.main-svg").count() > 0
    assert page.tab.locator("#coverage-chart svg, #teams-chart svg").count() == 0
    assert (
        page.tab.locator("#by-cloud").inner_text().endswith("No public-cloud use in this period.")
    )


def test_the_audit_pdf_is_generated_and_downloaded_with_the_api_figures(page):
    page.log_in("esg")
    page.open(QUARTER)
    api = page.context.request.get(page.base_url + "/api/v1/reports/scope2/?year=2026&quarter=3")
    figures = json.loads(api.body())["scope2"]

    # With eager Celery the PDF is built in the click's own request: as long as the wait below.
    page.tab.get_by_role("button", name=re.compile("^Generate the audit PDF")).click(
        timeout=120_000
    )
    page.tab.wait_for_load_state("networkidle")
    page.tab.wait_for_selector("[data-status=done]", timeout=120_000)
    with page.tab.expect_download() as download_info:
        page.tab.get_by_role("link", name="Download the PDF").click()
    download = download_info.value
    ARTIFACTS.mkdir(exist_ok=True)
    saved = ARTIFACTS / download.suggested_filename
    download.save_as(saved)

    pdf = saved.read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Demo AI Lab" in text and "2026 Q3" in text
    # The demo closed 2026 Q3 by two people: the sign-off page names both.
    sign_off = " ".join(text[text.rindex("12. Sign-off") :].split())
    assert "closed by two people" in sign_off
    assert "Prepared esg ESG" in sign_off and "admin Admin" in sign_off  # cells wrap
    for figure in ("mwh", "location_t", "market_t"):
        assert f"{figures[figure]:,.3f}" in text, figure


def test_a_bill_whose_lines_match_no_rule_says_how_to_attribute_them(page):
    """A real Azure amortized-cost export, picked with "Detect": the demo's three teams have no
    billing rule, so its ten lines with energy have no team and the page says what to do."""
    from tests.inventory.imports.conftest import FIXTURES

    page.log_in("admin")
    page.open("/data/imports/")
    hint = page.tab.locator("#mapping-hint")
    assert "mapping rules" in hint.inner_text()
    assert hint.get_by_role("link", name="mapping rules").get_attribute("href") == (
        "/settings/mapping-rules/"
    )
    upload = FIXTURES / "azure_ea_amortized_cost_small.csv"
    page.tab.get_by_label("File", exact=True).set_input_files(str(upload))
    page.tab.get_by_role("button", name="Upload and import").click()
    from playwright.sync_api import expect

    status = page.tab.locator('#import-status [data-field="status"]')
    expect(status).to_have_text("failed", timeout=60_000)
    summary = page.tab.locator('#import-status [data-field="summary"]').inner_text()
    assert summary.startswith("10 problems in the file; nothing was stored. Billing lines"), summary
    assert "tab Billing tag → team rules" in summary
    page.screenshot("import-unattributed-bill")
