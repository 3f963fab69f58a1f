"""The audit PDF as an auditor reads it: boundary on the cover, a methodology without developer
notes, a calculation trace per line that adds up to the API's figures, and a record annex whose
count and hash an auditor recomputes from the record browser's CSV export."""

import csv
import hashlib
import io
import json
import os
import re
from datetime import UTC, datetime

import pytest
from django.db import connection

from accounts.models import AuditEvent
from inventory.factors.library import DATA_DIR
from inventory.models import WorkloadRecord
from reports import audit_selectors
from reports.audit_selectors import record_annex
from reports.records_selectors import REPORTED_KINDS, records_filtered
from tests.reports.closing import close_quarter
from tests.reports.scope2_data import scope2, seed_quarter
from tests.reports.test_audit_pdf import export, pdf_text

FORBIDDEN = (".py", "tests/", "test_", "None", "esg_officer", "scope3_cat1", "2026-04-01T")
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}")
BOUNDARY = {
    "reporting_boundary": "Acme SAS and its Paris lab",
    "consolidation_approach": "operational_control",
    "reporting_exclusions": "Office laptops: under 1 % of energy\nEmbodied emissions: no data",
}


def t(value: float) -> str:
    return f"{value:,.3f}"


def locked_pdf(tenant, **boundary) -> tuple[dict, dict, str]:
    """The 2026 Q1 quarter of scope2_data, its boundary set, locked; its API body, lock and
    PDF text."""
    client = seed_quarter(tenant)
    for membership in tenant.organisation.memberships.select_related("user"):
        # The fixture's logins carry role codes ("acme-esg_officer"): log in as people do.
        membership.user.username = f"{membership.role.split('_')[0]}.martin"
        membership.user.save()
    if boundary:
        admin = tenant.client_for("admin")
        response = admin.patch("/api/v1/organisation/reporting/", boundary, format="json")
        assert response.status_code == 200, response.content
    lock = close_quarter(client, year=2026, quarter=1).json()  # the admin approves and locks
    pdf = client.get(export(client)["download_url"]).content
    if os.environ.get("AUDIT_PDF_OUT"):  # to look at its pages: pdftoppm -png -r 60
        with open(os.environ["AUDIT_PDF_OUT"], "wb") as out:
            out.write(pdf)
    return scope2(client).json(), lock, pdf_text(pdf)


def section(text: str, start: str, end: str | None = None) -> str:
    """A section of the PDF's text, after its line in the contents."""
    body = text[text.rindex(start) :]
    return body[: body.index(end)] if end else body


@pytest.mark.django_db
class TestTheAuditorsPdf:
    def test_it_prints_the_boundary_on_the_cover_and_no_code_or_raw_value(self, tenant):
        _, _, text = locked_pdf(tenant, **BOUNDARY)
        cover = text[: text.index("Contents")]
        assert "Acme SAS and its Paris lab" in cover
        assert re.search(r"Consolidation approach\s+Operational control", cover)
        assert "Office laptops: under 1 % of energy" in cover
        assert "Embodied emissions: no data" in cover
        for forbidden in FORBIDDEN:
            assert forbidden not in text, forbidden
        assert not ISO_TIMESTAMP.search(text)
        # The lock's moment in the organisation's zone, as people write it.
        assert re.search(r"\(Admin\), \d{1,2} [A-Z][a-z]{2} 2026, \d\d:\d\d UTC", cover)

    def test_it_says_not_stated_when_the_organisation_stated_no_boundary(self, tenant):
        _, _, text = locked_pdf(tenant)
        cover = text[: text.index("Contents")]
        assert re.search(r"Organisational boundary\s+not stated", cover)
        assert re.search(r"Consolidation approach\s+not stated", cover)
        assert re.search(r"Exclusions\s+not stated", cover)

    def test_times_are_local_to_the_organisation(self, tenant):
        tenant.organisation.time_zone = "Europe/Paris"
        tenant.organisation.save()
        _, lock, text = locked_pdf(tenant)
        locked_at = datetime.fromisoformat(lock["locked_at"]).astimezone(UTC)
        # Paris is UTC+1 in winter, UTC+2 in summer: the zone's own abbreviation is printed.
        assert re.search(r"\(Admin\), \d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d CES?T", text)
        assert f"{locked_at:%H:%M} UTC" not in text[: text.index("Contents")]

    def test_the_methodology_names_the_standards_and_the_data_it_used(self, tenant):
        _, _, text = locked_pdf(tenant)
        methodology = section(text, "6. Methodology", "7. Emission factors")
        assert "Scope 2 Guidance" in methodology
        assert "Scope 3 Standard, category 1" in methodology
        assert "Cloud Carbon Footprint" in methodology
        assert "Measured" in methodology and "Modelled" in methodology
        # Read from the data: the loaded dataset and the methodology's default PUE.
        manifest = json.loads((DATA_DIR / "manifest.json").read_text())
        assert f"{manifest['name']} {manifest['version']}" in methodology
        flat = re.sub(r"\s+", " ", methodology)
        assert "1.56 (Uptime Institute Global Data Center Survey 2024" in flat

    def test_each_line_traces_to_the_api_figures(self, tenant):
        body, _, text = locked_pdf(tenant)
        # lab-paris (FR): 40 + 40 + 100 kWh IT = 0.18 MWh × PUE 1.2 = 0.216 MWh
        # × 0.05 kg/kWh (the organisation's own FR figure) = 10.8 kg = 0.0108 t.
        # Market: Jan 48 and Feb 48 kWh under the 100 kWh EAC at 0; Mar 120 kWh: 4 kWh EAC,
        # 116 kWh × 0.1 residual = 11.6 kg = 0.0116 t.
        paris = next(
            line for line in body["breakdowns"]["location"] if "lab-paris" in line["label"]
        )
        assert paris["location_t"] == pytest.approx(0.0108)
        assert paris["market_t"] == pytest.approx(0.0116)
        trace_api = tenant.client_for("auditor").get(
            "/api/v1/reports/scope2/trace/?year=2026&quarter=1"
        )
        assert trace_api.status_code == 200
        assert trace_api.json()["version"] == 1
        by_line = {(tr["scope"], tr["key"]): tr for tr in trace_api.json()["lines"]}
        trace = by_line[("scope2", paris["key"])]
        assert trace["agrees"]
        assert [(s["records"], s["pue"]["value"]) for s in trace["steps"]] == [(3, 1.2)]
        step = trace["steps"][0]
        assert step["it_mwh"] == pytest.approx(0.18)
        assert step["factor"]["kg_per_kwh"] == pytest.approx(0.05)
        assert "Supplier letter 2026-01" in step["factor"]["source"]
        assert "facility lab-paris" in step["pue"]["source"]
        # Recompute every line from its trace: Σ IT MWh × PUE × kg/kWh = the API's tonnes.
        lines = [("scope2", line) for line in body["breakdowns"]["location"]]
        lines += [("scope3_cat1", line) for line in body["scope3_cat1"]["by_location"]]
        for scope, line in lines:
            steps = by_line[(scope, line["key"])]["steps"]
            recomputed = sum(
                s["it_mwh"] * s["pue"]["value"] * s["factor"]["kg_per_kwh"] for s in steps
            )
            assert recomputed == pytest.approx(line["location_t"], rel=1e-12)
            assert sum(s["mwh"] for s in steps) == pytest.approx(line["mwh"], rel=1e-12)
        market = sum(m["t"] for m in trace["market"] if m["allocated"])
        assert market == pytest.approx(paris["market_t"], rel=1e-12)

        annex_a = section(text, "Annex A. Calculation trace", "Annex B. Records")
        figure = r"([\d,]+\.\d{3})"
        row = re.search(rf"3\s+{figure}\s+1\.200\s.*?\s{figure}\s+0\.050000\s", annex_a, re.S)
        assert row.groups() == (t(0.18), t(0.216))
        totals = re.findall(rf"\n\s*3\s+{figure}\s+{figure}\s+Location-based\s+{figure}", annex_a)
        assert totals == [(t(0.18), t(paris["mwh"]), t(paris["location_t"]))]
        assert re.search(rf"Market-based\s+{re.escape(t(paris['market_t']))}", annex_a)
        cloud = body["scope3_cat1"]["by_location"][0]
        assert re.search(rf"Location-based\s+{re.escape(t(cloud['location_t']))}", annex_a)
        assert "These sums differ" not in annex_a

    def test_a_team_limited_engineer_gets_the_trace_of_its_teams_lines(self, tenant):
        seed_quarter(tenant)
        engineer = tenant.client_for("engineer")
        body = scope2(engineer).json()
        traces = engineer.get("/api/v1/reports/scope2/trace/?year=2026&quarter=1").json()
        lines = {(t["scope"], t["key"]): t for t in traces["lines"]}
        assert traces["version"] is None and traces["status"] == body["status"]
        for line in body["breakdowns"]["location"]:
            trace = lines[("scope2", line["key"])]
            assert trace["agrees"], trace
            assert trace["records"] == line["record_count"]
            assert trace["location_t"] == pytest.approx(line["location_t"], rel=1e-12)
        # The engineer is limited to serving: at lab-paris only feb-serve, 40 kWh IT × 1.2 =
        # 48 kWh × 0.05 = 2.4 kg; market: all 48 kWh of February under the EAC at 0.
        paris = next(t for t in traces["lines"] if "lab-paris" in t["label"])
        assert paris["records"] == 1
        assert paris["location_t"] == pytest.approx(0.0024)
        assert paris["market_t"] == pytest.approx(0.0)
        bad = engineer.get("/api/v1/reports/scope2/trace/?year=2026&quarter=5")
        assert bad.status_code == 400

    def test_the_annex_lists_every_record_and_its_hash_is_the_csv_exports(self, tenant):
        body, _, text = locked_pdf(tenant)
        annex = section(text, "Annex B. Records")
        # 3 Scope 2 records + 1 public-cloud record, the records of the figures.
        count = body["scope2"]["record_count"] + body["scope3_cat1"]["record_count"]
        assert count == 4
        assert f"Every one of the quarter's {count} records" in annex
        for external_id in ("jan-train", "feb-serve", "mar-tune", "mar-cloud"):
            assert external_id in annex
        # mar-tune: 100 kWh measured × 1.2 = 120 kWh × 0.05 = 6 kg.
        row = r"mar-tune\s.*\s100\.000\s+1\.200\s+120\.000\s+0\.0500\s+6\.000\s+Measured energy"
        assert re.search(row, annex)

        # The hash, recomputed as the annex tells an auditor to, from the browser's CSV.
        client = tenant.client_for("auditor")
        lines = []
        for kind in ("workloads", "cloud-usage"):
            response = client.get(
                f"/records/csv/?kind={kind}&start=2026-01-01&end=2026-04-01&locked=2026-Q1-v1"
            )
            rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
            for row in sorted(rows, key=lambda r: int(r["id"])):
                columns = ("kind", "id", "external_id", "it_kwh", "pue_used", "facility_kwh")
                columns += ("location_kg_per_kwh", "location_kg")
                lines.append("|".join(row[c] for c in columns) + "\n")
        assert len(lines) == count
        recomputed = hashlib.sha256("".join(lines).encode()).hexdigest()
        assert recomputed in re.sub(r"\s+", "", annex)

    def test_a_big_quarter_gets_a_reproducible_sample(self, tenant, settings):
        seed_quarter(tenant)
        settings.AUDIT_ANNEX_RECORD_LIMIT = 2
        first = record_annex(
            organisation=tenant.organisation, year=2026, quarter=1, version=None, seed=7
        )
        again = record_annex(
            organisation=tenant.organisation, year=2026, quarter=1, version=None, seed=7
        )
        other = [
            record_annex(
                organisation=tenant.organisation, year=2026, quarter=1, version=None, seed=s
            )
            for s in range(1, 30)
        ]
        assert first["sampled"] and first["count"] == 4 and first["sample_size"] == 2
        assert first["seed"] == 7
        assert [r["id"] for r in first["rows"]] == [r["id"] for r in again["rows"]]
        # Another seed can draw another sample; the count and hash cover all the records.
        assert {tuple(r["id"] for r in a["rows"]) for a in other} != {
            tuple(r["id"] for r in first["rows"])
        }
        assert {a["content_hash"] for a in other} == {first["content_hash"]}

        client = tenant.client_for("esg_officer")
        text = pdf_text(client.get(export(client)["download_url"]).content)
        annex = section(text, "Annex B. Records")
        assert "The quarter holds 4 records, more than the 2 this annex lists whole" in annex
        assert "random sample of 2 records" in annex
        seed = re.search(r"drawn with seed (\d+)", annex).group(1)
        assert f"random.Random({seed}).sample(range(4), 2)" in re.sub(r"\s+", " ", annex)

    def test_the_sql_annex_and_its_python_twin_agree(self, tenant, settings):
        seed_quarter(tenant)
        # Figures Postgres and Python print differently unless handled: an integral float
        # (48 vs 48.0), a tiny one (1e-05), a sum's last digits; a formula-like external id.
        WorkloadRecord.objects.filter(external_id="jan-train").update(
            external_id="=jan-train", location_kg=1e-05, it_kwh=0.1 + 0.2
        )
        # Bytes COPY's text format escapes: a backslash, a tab, a newline, a carriage return.
        WorkloadRecord.objects.filter(external_id="feb-serve").update(
            external_id="feb\\serve\tone\nline\r\\"
        )
        settings.AUDIT_ANNEX_RECORD_LIMIT = 3
        querysets = {
            kind: records_filtered(
                principal=audit_selectors._reader(tenant.organisation),
                filters=audit_selectors._quarter_filters(kind, 2026, 1, None),
            )
            for kind in REPORTED_KINDS
        }
        counts = {kind: rows.count() for kind, rows in querysets.items()}
        for positions in (None, {0, 2, 3}, {1}):
            python = audit_selectors.annex_stream(querysets, counts, positions)
            if connection.vendor != "postgresql":
                continue
            sql = audit_selectors.annex_sql(querysets, counts, positions)
            assert sql[0] == python[0]
            assert {k: list(v) for k, v in sql[1].items() if v} == dict(python[1])

    def test_another_organisation_cannot_read_or_set_the_boundary(self, tenant, outsider):
        other = outsider.client_for("admin")
        other.patch("/api/v1/organisation/reporting/", BOUNDARY, format="json")
        tenant.organisation.refresh_from_db()
        assert tenant.organisation.reporting_boundary == ""
        own = tenant.client_for("auditor").get("/api/v1/organisation/reporting/").json()
        assert own == {
            "reporting_boundary": "",
            "consolidation_approach": "",
            "reporting_exclusions": "",
        }


@pytest.mark.django_db
class TestTheBoundarySettings:
    URL = "/api/v1/organisation/reporting/"

    def test_an_admin_sets_it_and_the_change_is_audited(self, tenant):
        response = tenant.client_for("admin").patch(self.URL, BOUNDARY, format="json")
        assert response.status_code == 200
        assert response.json()["consolidation_approach"] == "operational_control"
        event = AuditEvent.objects.get(action="organisation.reporting")
        assert event.details["after"]["reporting_boundary"] == "Acme SAS and its Paris lab"
        assert event.details["before"]["reporting_boundary"] == ""

    def test_only_manage_access_changes_it(self, tenant):
        for role in ("esg_officer", "auditor", "engineer"):
            client = tenant.client_for(role)
            assert client.get(self.URL).status_code == 200
            assert client.patch(self.URL, BOUNDARY, format="json").status_code == 403
        token = tenant.token_client(["read"])
        assert token.patch(self.URL, BOUNDARY, format="json").status_code == 403
        manage = tenant.token_client(["manage"])
        assert (
            manage.patch(self.URL, {"reporting_boundary": "By token"}, format="json").status_code
            == 200
        )

    def test_it_names_every_bad_field(self, tenant):
        response = tenant.client_for("admin").patch(
            self.URL,
            {"consolidation_approach": "vibes", "reporting_boundary": "x" * 2001},
            format="json",
        )
        assert response.status_code == 400
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"consolidation_approach", "reporting_boundary"}

    def test_the_settings_page_saves_it(self, tenant):
        client = tenant.client_for("admin")
        response = client.post("/settings/reporting/", BOUNDARY)
        assert response.status_code == 302
        tenant.organisation.refresh_from_db()
        assert tenant.organisation.consolidation_approach == "operational_control"
        page = client.get("/settings/teams/").content.decode()
        assert "Acme SAS and its Paris lab" in page
        assert (
            tenant.client_for("auditor").post("/settings/reporting/", BOUNDARY).status_code == 403
        )
