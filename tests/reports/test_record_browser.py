"""Record browser: the records behind a figure sum to it, each record shows its lineage, a
batch says when and how it arrived; teams and tenants are respected; CSV streams safely."""

import csv
import html
import io
import re
from datetime import date

import pytest

from inventory.models import AiModel, IngestBatch, WorkloadRecord
from inventory.pipeline import records_compute, workload_records_compute
from reports.records_selectors import Cursor, RecordFilters, record_page
from tests.conftest import workload
from tests.inventory.test_pipeline import fr_override, stored_cloud_usage
from tests.reports.closing import close_quarter
from tests.reports.test_footprint_api import seed

Q1 = "start=2026-01-01&end=2026-04-01"
Q1_LOCK = {"year": 2026, "quarter": 1}


def listed(client, query: str, kind: str = "workloads") -> list[dict]:
    """Every record the API lists for a query, following the cursor page after page."""
    records, cursor = [], None
    while True:
        url = f"/api/v1/records/{kind}/?{query}" + (f"&before={cursor}" if cursor else "")
        body = client.get(url).json()
        records += body["results"]
        cursor = body["next_cursor"]
        if cursor is None:
            return records


def team_id(tenant, slug: str) -> int:
    return tenant.teams[slug].id


@pytest.mark.django_db
class TestRecordList:
    def test_the_records_of_a_team_sum_to_the_footprint_figure(self, tenant):
        seed(tenant)
        client = tenant.client_for("auditor")
        research = team_id(tenant, "research")
        records = listed(client, f"{Q1}&team={research}")
        figure = client.get(f"/api/v1/footprint/?{Q1}&group_by=team").json()
        by_team = {g["label"]: g["scope2"] for g in figure["groups"]}
        # 4 research jobs × 8 GPUs × 500 W × 10 h = 160 kWh IT; × PUE 1.2 = 192 kWh;
        # × 0.05 kg/kWh = 9.6 kg.
        assert len(records) == 4 == by_team["Research"]["record_count"]
        assert sum(r["it_kwh"] for r in records) == pytest.approx(160.0)
        assert sum(r["facility_kwh"] for r in records) == pytest.approx(192.0)
        assert sum(r["location_kg"] for r in records) == pytest.approx(9.6)
        assert by_team["Research"]["location_kg"] == pytest.approx(9.6)
        totals = client.get(f"/api/v1/records/workloads/?{Q1}&team={research}").json()["totals"]
        assert totals == {
            "record_count": 4,
            "it_kwh": pytest.approx(160.0),
            "facility_kwh": pytest.approx(192.0),
            "location_kg": pytest.approx(9.6),
        }

    def test_a_model_and_a_month_narrow_the_records_like_the_figures(self, tenant):
        seed(tenant)
        client = tenant.client_for("esg_officer")
        model = AiModel.objects.get(organisation=tenant.organisation, name="atlas-7b").id
        # atlas-7b: jobs 1, 3, 5 (odd); January: jobs 0 and 3: only job-3 is both.
        january = listed(client, f"start=2026-01-01&end=2026-02-01&model={model}")
        assert [r["external_id"] for r in january] == ["job-3"]
        assert january[0]["location_kg"] == pytest.approx(2.4)  # 48 kWh × 0.05
        assert len(listed(client, f"{Q1}&model={model}")) == 3
        assert listed(client, f"{Q1}&model=none") == []
        assert len(listed(client, f"{Q1}&tier=metered")) == 6
        assert listed(client, f"{Q1}&tier=measured") == []

    def test_pages_follow_each_other_newest_first_without_gaps(self, tenant):
        seed(tenant)
        admin = tenant.members["admin"]
        from accounts.principal import principal_for_membership

        principal = principal_for_membership(admin)
        filters = RecordFilters(start=date(2026, 1, 1), end=date(2026, 4, 1))
        seen, cursor = [], None
        for _ in range(3):
            page = record_page(principal=principal, filters=filters, before=cursor, size=2)
            seen += [(r.activity_date, r.id) for r in page.records]
            cursor = page.next_cursor
        assert (
            cursor is None
            or not record_page(principal=principal, filters=filters, before=cursor, size=2).records
        )
        assert len(seen) == len(set(seen)) == 6
        assert seen == sorted(seen, reverse=True)
        # March (jobs 2 and 5) first, January (jobs 0 and 3) last.
        assert [d.month for d, _ in seen] == [3, 3, 2, 2, 1, 1]

    def test_an_engineer_sees_only_their_teams_records(self, tenant):
        seed(tenant)
        engineer = tenant.client_for("engineer")  # limited to "serving"
        records = listed(engineer, Q1)
        assert {r["team"] for r in records} == {"Serving"}
        assert len(records) == 2
        # Asking for another team's records gives none, and no figure either.
        body = engineer.get(
            f"/api/v1/records/workloads/?{Q1}&team={team_id(tenant, 'research')}"
        ).json()
        assert body["results"] == [] and body["totals"]["record_count"] == 0

    def test_another_organisation_lists_nothing(self, tenant, outsider):
        seed(tenant)
        assert listed(outsider.client_for("admin"), Q1) == []

    def test_it_names_bad_filters(self, tenant):
        client = tenant.client_for("admin")
        response = client.get("/api/v1/records/workloads/?start=2026-04-01&end=2026-01-01")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "end"
        bad = client.get("/api/v1/records/workloads/?before=yesterday&model=atlas")
        assert bad.status_code == 400
        assert {e["field"] for e in bad.json()["errors"]} == {"before", "model"}
        assert client.get("/api/v1/records/jobs/").status_code == 404
        page = client.get("/records/?start=2026-04-01&end=2026-01-01")
        assert page.status_code == 400
        assert "end — Must be after start" in page.content.decode()
        assert client.get("/records/csv/?before=x").status_code == 400

    def test_cloud_usage_records_are_browsable_too(self, tenant):
        stored_cloud_usage(tenant, usage_kind="compute", quantity=1000.0)
        records_compute()
        client = tenant.client_for("auditor")
        records = listed(client, Q1, kind="cloud-usage")
        assert len(records) == 1
        # CCF: (0.74 + 0.5 × (3.5 − 0.74)) W × 1000 vCPU-h / 1000 = 2.12 kWh; × AWS PUE 1.135.
        assert records[0]["it_kwh"] == pytest.approx(2.12)
        assert records[0]["facility_kwh"] == pytest.approx(2.12 * 1.135)
        assert records[0]["scope"] == "scope3_cat1"
        # The page opens on the only kind with records.
        html = client.get(f"/records/?{Q1}").content.decode()
        assert 'aria-current="page">Cloud usage records (1)' in html


@pytest.mark.django_db
class TestRecordDetail:
    def test_it_shows_the_inputs_rule_pue_factor_and_each_figure(self, tenant):
        seed(tenant)
        record = WorkloadRecord.objects.get(organisation=tenant.organisation, external_id="job-0")
        body = tenant.client_for("auditor").get(f"/api/v1/records/workloads/{record.id}/").json()
        assert body["inputs"]["avg_power_w"] == 500.0
        assert body["inputs"]["device_count"] == 8
        assert body["energy_rule"].startswith("2. metered")
        assert body["pue"]["value"] == 1.2
        assert body["pue"]["label"] == "facility lab-paris"
        assert body["pue"]["source"] == "metered"
        assert body["factor"]["value"] == 0.05
        assert body["factor"]["source"] == "Supplier letter 2026-01"
        assert body["factor"]["row"].startswith("factor override #")
        # 500 W × 8 × 36 000 s / 3 600 000 = 40 kWh; × 1.2 = 48 kWh; × 0.05 = 2.4 kg.
        assert [s["value"] for s in body["steps"][:3]] == pytest.approx([40.0, 48.0, 2.4])
        # No WUE for the Paris lab and no measured water: on-site water is not available.
        assert (body["steps"][3]["label"], body["steps"][3]["value"]) == ("On-site water", None)
        # Off-site, beside it: 48 kWh facility × 3.6737 L/kWh (France, EcoLogits) = 176.3376 L.
        offsite = body["steps"][4]
        assert offsite["label"] == "Off-site water"
        assert offsite["value"] == pytest.approx(176.3376, rel=1e-12)
        assert offsite["formula"].startswith("48 kWh facility × 3.6737 L/kWh (FR, WRI and WSP")
        assert body["steps"][0]["formula"] == "500 W × 8 devices × 36000 s ÷ 3 600 000"

    def test_the_page_shows_the_same_lineage(self, tenant):
        seed(tenant)
        record = WorkloadRecord.objects.get(organisation=tenant.organisation, external_id="job-0")
        html = tenant.client_for("auditor").get(f"/records/workloads/{record.id}/").content.decode()
        assert "Supplier letter 2026-01" in html
        assert 'data-step="3">2.400000 kg CO2e' in html
        assert f'href="/records/batches/{record.batch_id}/"' in html

    def test_another_teams_record_is_404_for_an_engineer(self, tenant):
        seed(tenant)
        record = WorkloadRecord.objects.get(organisation=tenant.organisation, external_id="job-0")
        engineer = tenant.client_for("engineer")
        assert engineer.get(f"/api/v1/records/workloads/{record.id}/").status_code == 404
        assert engineer.get(f"/records/workloads/{record.id}/").status_code == 404
        serving = WorkloadRecord.objects.get(organisation=tenant.organisation, external_id="job-4")
        assert engineer.get(f"/api/v1/records/workloads/{serving.id}/").status_code == 200

    def test_another_organisations_record_is_404(self, tenant, outsider):
        seed(tenant)
        record = WorkloadRecord.objects.get(organisation=tenant.organisation, external_id="job-0")
        client = outsider.client_for("admin")
        assert client.get(f"/api/v1/records/workloads/{record.id}/").status_code == 404
        assert client.get(f"/records/workloads/{record.id}/").status_code == 404
        assert client.get(f"/records/cloud-usage/{record.id}/").status_code == 404

    def test_a_cloud_record_names_its_power_row_and_the_providers_pue(self, tenant):
        record = stored_cloud_usage(tenant, usage_kind="compute", quantity=1000.0)
        records_compute()
        body = tenant.client_for("admin").get(f"/api/v1/records/cloud-usage/{record.id}/").json()
        assert body["power_model"]["row"].endswith("(unknown-cpu-aws)")
        assert body["pue"]["value"] == pytest.approx(1.135)
        assert body["pue"]["label"].startswith("published PUE of provider aws")
        assert body["pue"]["source"]
        assert body["steps"][0]["value"] == pytest.approx(2.12)

    def test_a_modelled_record_without_a_model_shows_the_power_model_sum(self, tenant):
        fr_override(tenant.organisation)
        client = tenant.token_client()
        job = workload(external_id="job-modelled", model=None)  # H100 × 8 at 0.5, 10 h
        assert client.post("/api/v1/workloads/", [job], format="json").status_code == 201
        workload_records_compute()
        auditor = tenant.client_for("auditor")
        [row] = listed(auditor, f"{Q1}&model=none")
        body = auditor.get(f"/api/v1/records/workloads/{row['id']}/").json()
        assert body["energy_rule"].startswith("3. hardware power model")
        assert body["power_model"]["row"].endswith("(nvidia-h100-sxm)")
        # (79.1 + 0.5 × (700 − 79.1)) W = 389.55 W × 8 × 10 h = 31.164 kWh; × PUE 1.2 =
        # 37.3968 kWh; × 0.05 kg/kWh = 1.86984 kg.
        assert body["steps"][0]["formula"].startswith("(79.1 + utilisation 0.5 × (700 − 79.1)) W")
        assert [s["value"] for s in body["steps"][:3]] == pytest.approx([31.164, 37.3968, 1.86984])

    def test_a_storage_line_names_its_coefficient_and_replication(self, tenant):
        record = stored_cloud_usage(
            tenant, service="AmazonS3", usage_kind="storage_ssd", quantity=10.0, replication=6.0
        )
        records_compute()
        body = tenant.client_for("auditor").get(f"/api/v1/records/cloud-usage/{record.id}/").json()
        assert body["coefficient"]["row"].startswith("cloud coefficient #")
        assert body["coefficient"]["label"].startswith("storage_ssd_wh_per_tb_hour = 1.2")
        assert body["power_model"] is None
        # 10 TB-h × 1.2 Wh/TB-h × 6 copies / 1000 = 0.072 kWh before PUE.
        assert "× replication 6 ÷ 1000" in body["steps"][0]["formula"]
        assert body["steps"][0]["value"] == pytest.approx(0.072)


@pytest.mark.django_db
class TestBatch:
    def test_a_batch_says_when_it_arrived_and_under_which_token(self, tenant):
        seed(tenant)  # sent with a token named "test"
        batch = IngestBatch.objects.get(organisation=tenant.organisation)
        client = tenant.client_for("auditor")
        body = client.get(f"/api/v1/records/batches/{batch.id}/").json()
        assert body["token_name"] == "test"
        assert body["received"] == 6 and body["created"] == 6
        assert body["visible_records"] == {"workloads": 6, "cloud-usage": 0, "llm-usage": 0}
        WorkloadRecord.objects.filter(external_id="job-5").update(status="failed")
        html = client.get(f"/records/batches/{batch.id}/").content.decode()
        assert 'data-batch="token">test<' in html
        # A batch lists every record it held, the failed one too.
        assert html.count("<tr data-record=") == 6

    def test_an_engineer_sees_only_their_teams_part_of_a_batch(self, tenant):
        seed(tenant)
        batch = IngestBatch.objects.get(organisation=tenant.organisation)
        body = tenant.client_for("engineer").get(f"/api/v1/records/batches/{batch.id}/").json()
        assert body["visible_records"]["workloads"] == 2

    def test_a_batch_of_other_teams_or_organisations_is_404(self, tenant, outsider):
        seed(tenant)
        research_only = IngestBatch.objects.create(organisation=tenant.organisation, source="api")
        WorkloadRecord.objects.filter(external_id="job-0").update(batch=research_only)
        engineer = tenant.client_for("engineer")
        assert engineer.get(f"/api/v1/records/batches/{research_only.id}/").status_code == 404
        assert engineer.get(f"/records/batches/{research_only.id}/").status_code == 404
        outside = outsider.client_for("admin")
        assert outside.get(f"/api/v1/records/batches/{research_only.id}/").status_code == 404


@pytest.mark.django_db
class TestCsv:
    def test_it_streams_every_filtered_record_privately(self, tenant):
        seed(tenant)
        response = tenant.client_for("auditor").get(
            f"/records/csv/?{Q1}&team={team_id(tenant, 'research')}"
        )
        assert response.streaming
        assert response["Cache-Control"] == "private, no-store"
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert len(rows) == 4
        assert sum(float(r["location_kg"]) for r in rows) == pytest.approx(9.6)

    def test_labels_that_look_like_formulas_stay_text(self, tenant):
        seed(tenant)
        AiModel.objects.filter(name="atlas-7b").update(name='=HYPERLINK("http://x")')
        response = tenant.client_for("admin").get(f"/records/csv/?{Q1}")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert {r["model"] for r in rows} == {"atlas-chat", '\'=HYPERLINK("http://x")'}

    def test_an_engineers_csv_holds_only_their_teams(self, tenant):
        seed(tenant)
        response = tenant.client_for("engineer").get(f"/records/csv/?{Q1}")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert {r["team"] for r in rows} == {"Serving"}


def record_links(page: str, table_id: str) -> dict[str, str]:
    """{line label: the record browser link of its records cell} of a breakdown table."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S).group(0)
    links = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        label = re.sub(r"<[^>]+>", "", re.search(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S).group(1))
        link = re.search(r'href="(/records/\?[^"]*)"', row)
        if link:
            links[label.strip()] = html.unescape(link.group(1)).split("?", 1)[1]
    return links


@pytest.mark.django_db
class TestDrillDown:
    def test_an_overview_team_line_opens_the_records_that_sum_to_it(self, tenant):
        seed(tenant)
        client = tenant.client_for("auditor")
        links = record_links(client.get(f"/?{Q1}").content.decode(), "teams-table")
        research = team_id(tenant, "research")
        assert links["Research"] == f"{Q1}&team={research}"
        records = listed(client, links["Serving"])
        # Serving: jobs 4 and 5, 2 × 2.4 kg = 4.8 kg, the line's 0.0048 t.
        assert sum(r["location_kg"] for r in records) == pytest.approx(4.8)

    def test_model_and_location_lines_of_the_team_page_carry_the_team(self, tenant):
        seed(tenant)
        client = tenant.client_for("admin")
        page = client.get(f"/teams/research/?{Q1}").content.decode()
        research = team_id(tenant, "research")
        models = record_links(page, "models-table")
        # Research × atlas-7b: jobs 1 and 3 = 2 × 2.4 kg.
        records = listed(client, models["atlas-7b"])
        assert f"team={research}" in models["atlas-7b"]
        assert sum(r["location_kg"] for r in records) == pytest.approx(4.8)
        locations = record_links(page, "locations-table")
        assert sum(r["location_kg"] for r in listed(client, locations["lab-paris (FR)"])) == (
            pytest.approx(9.6)
        )

    def test_scope2_report_lines_open_their_records(self, tenant):
        seed(tenant)
        client = tenant.client_for("esg_officer")
        page = client.get("/reports/2026/Q1/").content.decode()
        teams = record_links(page, "by-team")
        assert teams["Research"] == f"{Q1}&team={team_id(tenant, 'research')}&scope=scope2"
        tiers = record_links(page, "by-tier")
        # Every job gives its average power: 6 metered records × 2.4 kg = 14.4 kg.
        records = listed(client, tiers["Metered power"])
        assert len(records) == 6
        assert sum(r["location_kg"] for r in records) == pytest.approx(14.4)

    def test_the_data_pages_tier_and_batch_lines_open_their_records(self, tenant):
        seed(tenant)
        client = tenant.client_for("auditor")
        page = client.get(f"/data/?{Q1}").content.decode()
        tiers = record_links(page, "quality")
        assert tiers["Metered power"] == f"{Q1}&tier=metered"
        # All 6 jobs are metered: 6 × 2.4 kg.
        assert sum(r["location_kg"] for r in listed(client, tiers["Metered power"])) == (
            pytest.approx(14.4)
        )
        batch = IngestBatch.objects.get(organisation=tenant.organisation)
        assert f'href="/records/batches/{batch.id}/?status=all"' in page

    def test_a_locked_reports_lines_open_the_records_it_holds_not_late_ones(self, tenant):
        client = seed(tenant)
        officer = tenant.client_for("esg_officer")
        lock = close_quarter(officer, **Q1_LOCK)
        assert lock.status_code == 201
        late = workload(
            external_id="job-late",
            avg_power_w=500.0,
            started_at="2026-01-20T00:00:00Z",
            ended_at="2026-01-20T10:00:00Z",
        )
        assert client.post("/api/v1/workloads/", [late], format="json").status_code == 201
        workload_records_compute()
        page = officer.get("/reports/2026/Q1/").content.decode()
        research = record_links(page, "by-team")["Research"]
        assert "locked=2026-Q1-v1" in research
        # Locked: jobs 0-3, 4 × 2.4 kg = 9.6 kg; the late job (another 2.4 kg) is not in it.
        records = listed(officer, research)
        assert sorted(r["external_id"] for r in records) == ["job-0", "job-1", "job-2", "job-3"]
        assert sum(r["location_kg"] for r in records) == pytest.approx(9.6)
        totals = officer.get(f"/api/v1/records/workloads/?{research}").json()["totals"]
        assert totals["record_count"] == 4
        assert totals["location_kg"] == pytest.approx(9.6)
        # Today's records of the same line hold the late job too: 5 × 2.4 kg.
        today = research.replace("&locked=2026-Q1-v1", "")
        assert sum(r["location_kg"] for r in listed(officer, today)) == pytest.approx(12.0)
        # A locked version covers the whole organisation: not an engineer's to read.
        assert listed(tenant.client_for("engineer"), research) == []
        assert listed(officer, research.replace("v1", "v2")) == []


def test_a_cursor_reads_back_what_it_wrote():
    cursor = Cursor(date(2026, 1, 5), 123)
    assert str(cursor) == "2026-01-05.123"
    assert Cursor.parse(str(cursor)) == cursor
    with pytest.raises(ValueError):
        Cursor.parse("2026-01-05")
