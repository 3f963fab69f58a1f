import re
import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest

from inventory.models import ContractualInstrument
from reports.models import ReportExport
from reports.services import report_export_build
from tests.conftest import workload
from tests.reports.closing import close_quarter
from tests.reports.scope2_data import allocate_market, job, scope2, seed_quarter, send

EXPORTS = "/api/v1/reports/scope2/exports/"


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as an auditor's tool reads it (poppler's pdftotext)."""
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: apt-get install poppler-utils"
    result = subprocess.run([tool, "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode()


def export(client, **body) -> dict:
    response = client.post(EXPORTS, {"year": 2026, "quarter": 1, **body}, format="json")
    assert response.status_code == 202, response.content
    created = response.json()
    if ReportExport.objects.get(pk=created["id"]).status != "done":
        # With a real broker and no worker in the test run, build it here as the task would.
        report_export_build(export_id=created["id"])
    return client.get(f"{EXPORTS}{created['id']}/").json()


def t(value: float) -> str:
    return f"{value:,.3f}"


@pytest.mark.django_db
class TestAuditPdf:
    def test_the_pdf_of_a_locked_quarter_shows_the_api_figures(self, tenant):
        client = seed_quarter(tenant)
        locked = close_quarter(client).json()
        body = scope2(client).json()
        job = export(client)
        assert job["status"] == "done"
        assert job["progress"] == 100
        assert job["version"] == 1
        response = client.get(job["download_url"])
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert "acme-scope2-2026-Q1-v1.pdf" in response["Content-Disposition"]
        text = pdf_text(response.content)
        flat = re.sub(r"\s+", "", text)

        # Cover: organisation, period, version, status and content hash.
        assert "Org acme" in text
        assert "2026 Q1" in text
        assert "LOCKED · VERSION 1" in text
        assert locked["content_hash"] in flat
        # Who locked it and when, as a reader writes them: no role codes, no ISO "T".
        locked_at = datetime.fromisoformat(locked["locked_at"]).astimezone(UTC)
        locked_at_text = f"{locked_at.day} {locked_at:%b %Y, %H:%M} UTC"
        assert f"acme-admin (Admin), {locked_at_text}" in text  # the approver locks
        # Page numbers and a table of contents that points at them.
        assert re.search(r"Page 1 of (\d+)", text)
        assert re.search(r"7\. Emission factors[ .]*\d+", text)

        # The dual Scope 2 table and the breakdowns carry the API's figures.
        # (pdftotext -layout wraps the row labels; the figures stay on the first line)
        figure = r"([\d,]+\.\d{3})"
        dual = re.search(rf"Scope 2:\D*?{figure}\s+{figure}\s+{figure}", text).groups()
        assert dual == (
            t(body["scope2"]["mwh"]),
            t(body["scope2"]["location_t"]),
            t(body["scope2"]["market_t"]),
        )
        # (the label's first line: "Public cloud: Scope 3", then the figures)
        cloud = re.search(
            rf"Public cloud: Scope 3\D*?{figure}\s+{figure}\s+(not applicable)", text
        ).groups()
        # Cloud's market-based figure is not applicable: never its location-based one again.
        assert body["scope3_cat1"]["market_t"] is None
        assert cloud == (
            t(body["scope3_cat1"]["mwh"]),
            t(body["scope3_cat1"]["location_t"]),
            "not applicable",
        )
        for line in body["breakdowns"]["team"] + body["breakdowns"]["phase"]:
            # On its landscape page a label ("Fine-tuning") is not wrapped after its hyphen.
            row = re.search(re.escape(line["label"]) + r"\s+([\d,]+)\s+(\S+)\s+\S+ %\s+(\S+)", text)
            assert row, line["label"]
            assert row.groups() == (
                f"{line['record_count']:,}",
                t(line["mwh"]),
                t(line["location_t"]),
            )
        assert "GO-2026-0001" in text
        assert "46.3 %" in text
        # Factors with their sources and licences, lineage, methodology.
        assert "Supplier letter 2026-01" in text
        assert "Methodology version 2026.1" in text
        assert "4 input records in 1 ingestion batch;" in text
        # Records in the figures reconcile with the input records.
        assert "3 records in Scope 2 + 1 in public cloud" in text
        assert "= 4, the number of input records" in text

    def test_a_restated_version_prints_the_reason_and_the_differences(self, tenant):
        client = seed_quarter(tenant)
        close_quarter(client)
        send(tenant, [job("late-train", date(2026, 3, 20))])
        allocate_market(tenant.organisation, ContractualInstrument.objects.get())
        reason = "Late March job from the Paris lab"
        restated = client.post(
            "/api/v1/reports/scope2/restatements/",
            {"year": 2026, "quarter": 1, "reason": reason},
            format="json",
        ).json()
        totals = restated["differences"]["totals"]["scope2"]

        text = pdf_text(client.get(export(client)["download_url"]).content)
        assert "LOCKED · VERSION 2" in text
        assert "Version 2: restated" in text
        assert f"Reason: {reason}" in text
        restatement = text[text.index("Version 2: restated") :]
        before_after = re.search(r"Scope 2 MWh\s+(\S+)\s+(\S+)\s+(\S+)", restatement).groups()
        assert before_after == (
            t(totals["mwh"]["old"]),
            t(totals["mwh"]["new"]),
            f"{totals['mwh']['change']:+,.3f}",
        )
        assert re.search(r"Research\s+\S+\s+\S+", restatement)  # the changed team line
        assert restated["differences"]["content_hash"]["old"] in re.sub(r"\s+", "", text)
        # Annex A traces the restated lines to the records version 2 holds, late job included.
        trace = text[text.rindex("Annex A. Calculation trace") :]
        assert "These sums are the figures of the report line" in trace
        assert "These sums differ" not in trace

        old = pdf_text(client.get(export(client, version=1)["download_url"]).content)
        assert "SUPERSEDED BY A RESTATEMENT · VERSION 1" in old
        assert "No restatements" in old
        assert t(totals["mwh"]["old"]) in old

    def test_a_draft_pdf_says_it_is_not_locked(self, tenant):
        client = seed_quarter(tenant)
        job = export(client)
        assert job["version"] is None
        text = pdf_text(client.get(job["download_url"]).content)
        assert "DRAFT" in text
        assert "not locked" in text

    def test_a_failed_build_is_recorded_and_the_pdf_is_not_served(self, tenant, monkeypatch):
        client = seed_quarter(tenant)

        def broken(*args, **kwargs):
            raise RuntimeError("chromium went away")

        monkeypatch.setattr("reports.services.render_report_pdf", broken)
        response = client.post(EXPORTS, {"year": 2026, "quarter": 1}, format="json")
        export_id = response.json()["id"]
        if ReportExport.objects.get(pk=export_id).status != "failed":
            with pytest.raises(RuntimeError):
                report_export_build(export_id=export_id)
        job = client.get(f"{EXPORTS}{export_id}/").json()
        assert job["status"] == "failed"
        assert job["error"] == "chromium went away"
        assert job["download_url"] is None
        assert client.get(f"{EXPORTS}{export_id}/pdf/").status_code == 409

    def test_another_organisation_cannot_see_or_download_an_export(self, tenant, outsider):
        job = export(seed_quarter(tenant))
        other = outsider.client_for("admin")
        assert other.get(f"{EXPORTS}{job['id']}/").status_code == 404
        assert other.get(f"{EXPORTS}{job['id']}/pdf/").status_code == 404
        assert other.get(f"/reports/exports/{job['id']}/pdf/").status_code == 404
        assert tenant.client_for("engineer").get(f"{EXPORTS}{job['id']}/").status_code == 404

    def test_the_page_requests_a_pdf_and_links_to_it(self, tenant):
        client = seed_quarter(tenant)
        response = client.post("/reports/2026/Q1/export/")
        assert response.status_code == 302
        export_id = int(response["Location"].rstrip("/").split("/")[-1])
        if ReportExport.objects.get(pk=export_id).status != "done":
            report_export_build(export_id=export_id)
        html = client.get(response["Location"]).content.decode()
        assert f"/reports/exports/{export_id}/pdf/" in html
        assert '<p data-status="done">Done</p>' in html  # not "Done: Done"
        download = client.get(f"/reports/exports/{export_id}/pdf/")
        assert download["Content-Type"] == "application/pdf"
        assert "Generate the audit PDF" in client.get("/reports/2026/Q1/").content.decode()


@pytest.mark.django_db
def test_it_prints_a_dash_not_none_as_the_year_of_a_power_model_factor(tenant):
    client = seed_quarter(tenant)
    # A job with neither energy nor power: modelled from the H100's power figures, so the
    # factor table gets a hardware row, which has no year.
    send(
        tenant,
        [
            workload(
                external_id="mar-modelled",
                started_at="2026-03-10T00:00:00Z",
                ended_at="2026-03-10T10:00:00Z",
            )
        ],
    )

    text = pdf_text(client.get(export(client)["download_url"]).content)
    # The section itself, after its line in the contents.
    factors = text[text.rindex("7. Emission factors") :]
    factors = factors[: factors.index("8. Contractual instruments")]
    hardware_row = re.search(r"—\s+Power model\s+(\S+)\s+—\s+idle [\d.]+ W, max 700.0 W", factors)
    assert hardware_row, factors
    assert hardware_row.group(1) == "—"
    assert "None" not in factors


def page_sizes(pdf: bytes, tmp_path) -> list[tuple[float, float]]:
    """Each page's width and height in points, as poppler's pdfinfo reads them."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    tool = shutil.which("pdfinfo")
    assert tool, "pdfinfo is missing: apt-get install poppler-utils"
    info = subprocess.run(
        [tool, "-f", "1", "-l", "999", str(path)], capture_output=True, check=True
    ).stdout.decode()
    return [
        (float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    ]


@pytest.mark.django_db
def test_the_tables_with_a_column_per_figure_are_printed_on_landscape_pages(tenant, tmp_path):
    # Portrait A4 (180 mm of text) ran the breakdowns' last columns (embodied emissions) off
    # the page and wrapped the dual table's labels a word a line.
    client = seed_quarter(tenant)
    pdf = client.get(export(client)["download_url"]).content
    sizes = page_sizes(pdf, tmp_path)
    pages = pdf_text(pdf).split("\f")
    assert len(pages[: len(sizes)]) == len(sizes)
    for heading in ("2. Scope 2, location- and market-based", "3. Breakdowns (Scope 2)"):
        # The section's own page, not its line in the contents (which has dot leaders).
        number = next(n for n, text in enumerate(pages) if f"{heading}\n" in text)
        width, height = sizes[number]
        assert (round(width), round(height)) == (842, 595), heading  # A4 landscape, in points
    text = pdf_text(pdf)
    assert "Public cloud: Scope 3" in text  # one line, not "Public\ncloud:\nScope\n3"
    # A count's heading names no unit after itself: not "Records with on-site water (records)"
    assert "(records)" not in text
    # The cover and the narrative stay portrait.
    assert (round(sizes[0][0]), round(sizes[0][1])) == (595, 842)
