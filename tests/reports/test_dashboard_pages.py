"""Overview, team and model pages: figures equal the API's, roles and tenants are respected,
every chart's data downloads as CSV, filters narrow, new organisations are told what to do."""

import csv
import io
import json
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import team_create
from inventory.models import AiModel
from reports.dashboard import last_full_quarter, parse_filters
from tests.conftest import workload
from tests.inventory.test_pipeline import posted_and_computed
from tests.reports.test_footprint_api import seed

Q1 = "start=2026-01-01&end=2026-04-01"


def figure(html: str, chart: str) -> dict:
    match = re.search(
        rf'<script id="{chart}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no figure {chart}"
    return json.loads(match.group(1))


def kpi(html: str, key: str) -> str:
    return re.search(rf'data-kpi="{key}">([^<]*)<', html).group(1)


def rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
class TestOverview:
    def test_the_kpis_equal_the_footprint_api(self, tenant):
        seed(tenant)
        client = tenant.client_for("esg_officer")
        api = client.get(f"/api/v1/footprint/?{Q1}&group_by=team").json()["totals"]
        html = client.get(f"/?{Q1}").content.decode()
        assert kpi(html, "mwh") == f"{api['scope2']['facility_kwh'] / 1000:,.3f}" == "0.288"
        assert kpi(html, "t") == f"{api['scope2']['location_kg'] / 1000:,.3f}" == "0.014"
        assert kpi(html, "records") == "6"

    def test_every_chart_has_a_csv_download_with_the_same_figures(self, tenant):
        seed(tenant)
        client = tenant.client_for("admin")
        html = client.get(f"/?{Q1}").content.decode()
        charts = re.findall(r'<script id="([\w-]+)-data" type="application/json">', html)
        # No public cloud here: its chart's card says so and draws nothing.
        assert charts == [
            "trend-scope2",
            "location-market",
            "top-models",
            "phases",
            "tiers",
            "phases-trend-scope2",
        ]
        for chart in [*charts, "trend-scope3_cat1", "phases-trend-scope3_cat1"]:
            assert f"download={chart}" in html
        # The same Scope 2 tonnes split by phase as by team, month by month.
        by_phase = rows(client.get(f"/?{Q1}&download=phases-trend-scope2"))
        by_team = rows(client.get(f"/?{Q1}&download=trend-scope2"))
        assert sum(float(r[3]) for r in by_phase[1:]) == pytest.approx(
            sum(float(r[3]) for r in by_team[1:])
        )
        trend = rows(client.get(f"/?{Q1}&download=trend-scope2"))
        assert trend[0] == ["month", "team", "mwh", "location_t_co2e", "market_t_co2e", "records"]
        research = [r for r in trend[1:] if r[1] == "Research"]
        assert [(r[0], float(r[3])) for r in research] == [
            ("2026-01", 0.0048),
            ("2026-02", 0.0024),
            ("2026-03", 0.0024),
        ]
        plotted = next(t for t in figure(html, "trend-scope2")["data"] if t["name"] == "Research")
        # 8 GPUs × 500 W × 10 h × PUE 1.2 × 0.05 kg/kWh = 2.4 kg a record; two in January.
        assert plotted["y"] == pytest.approx([0.0048, 0.0024, 0.0024])
        assert client.get(f"/?{Q1}&download=nothing").status_code == 404

    def test_a_chart_download_reads_its_own_grouping_of_the_rollups_alone(self, tenant, outsider):
        seed(tenant)
        client = tenant.client_for("admin")
        with CaptureQueriesContext(connection) as queries:
            trend = rows(client.get(f"/?{Q1}&download=trend-scope2"))
        # A record: 8 GPUs × 500 W × 10 h = 40 kWh × PUE 1.2 = 0.048 MWh; × 0.05 kg/kWh =
        # 0.0024 t location-based; × FR's 2025 residual mix 0.01711 kg/kWh = 0.000821 t
        # market-based. Research has 2 records in January (0.096 MWh, 0.0048 t, 1.64 kg) and
        # one in February and March, serving one in February and March.
        assert trend == [
            ["month", "team", "mwh", "location_t_co2e", "market_t_co2e", "records"],
            ["2026-01", "Research", "0.096", "0.0048", "0.001643", "2"],
            ["2026-02", "Research", "0.048", "0.0024", "0.000821", "1"],
            ["2026-02", "Serving", "0.048", "0.0024", "0.000821", "1"],
            ["2026-03", "Research", "0.048", "0.0024", "0.000821", "1"],
            ["2026-03", "Serving", "0.048", "0.0024", "0.000821", "1"],
        ]
        read = [query["sql"] for query in queries.captured_queries]
        # One grouped read of the rollups (Q1 is whole months: the monthly ones alone).
        assert sum("rollup" in sql for sql in read) == 1
        # None of the page's cards: targets, LLM API usage, allocations, records waiting.
        cards = ("reports_target", "llmusagerecord", "marketallocation", "workloadrecord")
        assert [sql for sql in read if any(table in sql for table in cards)] == []
        # atlas-7b: records 1, 3 and 5; atlas-chat: 0, 2 and 4 (3 × 0.048 MWh, 0.0024 t,
        # 0.82128 kg); equal energy, so by name. No public cloud: 0, and no market figure.
        assert rows(client.get(f"/?{Q1}&download=top-models"))[1:] == [
            ["atlas-7b", "3", "0.144", "0.0072", "0.002464", "0.0", "0.0", "not applicable"],
            ["atlas-chat", "3", "0.144", "0.0072", "0.002464", "0.0", "0.0", "not applicable"],
        ]
        assert rows(client.get(f"/?{Q1}&download=phases"))[1:] == [
            ["Training", "6", "0.288", "1.0"]
        ]
        # The engineer's team only; another organisation's download has none of these rows.
        assert rows(tenant.client_for("engineer").get(f"/?{Q1}&download=trend-scope2"))[1:] == [
            ["2026-02", "Serving", "0.048", "0.0024", "0.000821", "1"],
            ["2026-03", "Serving", "0.048", "0.0024", "0.000821", "1"],
        ]
        assert rows(outsider.client_for("admin").get(f"/?{Q1}&download=trend-scope2"))[1:] == []

    def test_the_team_bars_drill_down_to_the_team_page(self, tenant):
        seed(tenant)
        html = tenant.client_for("admin").get(f"/?{Q1}").content.decode()
        research = next(t for t in figure(html, "trend-scope2")["data"] if t["name"] == "Research")
        assert research["customdata"][0].startswith("/teams/research/?")
        assert 'href="/teams/research/?' in html

    def test_filters_narrow_every_figure(self, tenant):
        seed(tenant)
        client = tenant.client_for("admin")
        serving = tenant.teams["serving"].id
        html = client.get(f"/?{Q1}&team={serving}").content.decode()
        assert kpi(html, "records") == "2"
        assert {t["name"] for t in figure(html, "trend-scope2")["data"]} == {"Serving"}
        html = client.get(f"/?{Q1}&scope=scope3_cat1").content.decode()
        assert "No computed records match these filters" in html
        html = client.get("/?period=2026-q1").content.decode()
        assert kpi(html, "records") == "6"

    def test_an_engineer_sees_only_their_teams(self, tenant):
        seed(tenant)
        client = tenant.client_for("engineer")
        html = client.get(f"/?{Q1}").content.decode()
        assert kpi(html, "records") == "2"
        assert {t["name"] for t in figure(html, "trend-scope2")["data"]} == {"Serving"}
        assert client.get(f"/teams/research/?{Q1}").status_code == 404
        # Asking for another team through the filter shows nothing of it.
        html = client.get(f"/?{Q1}&team={tenant.teams['research'].id}").content.decode()
        assert "No computed records match" in html

    def test_a_new_organisation_gets_copy_paste_snippets(self, tenant):
        html = tenant.client_for("admin").get("/").content.decode()
        assert "send your first one" in html
        assert "curl -X POST http://testserver/api/v1/workloads/" in html
        assert '"team": "research"' in html
        assert '"location": "lab-paris"' in html
        assert "OfflineEmissionsTracker" in html
        assert 'href="/settings/tokens/"' in html
        html = tenant.client_for("auditor").get("/").content.decode()
        assert "Ask an admin" in html


@pytest.mark.django_db
class TestTeamAndModelPages:
    def test_the_team_page_shows_its_models_locations_and_tiers(self, tenant):
        seed(tenant)
        html = tenant.client_for("esg_officer").get(f"/teams/research/?{Q1}").content.decode()
        assert kpi(html, "records") == "4"
        assert {t["name"] for t in figure(html, "trend-scope2")["data"]} == {
            "atlas-7b",
            "atlas-chat",
        }
        tiers = figure(html, "tiers")["data"][0]
        assert tiers["labels"] == ["Metered power"]
        assert "lab-paris (FR)" in html
        assert "NVIDIA H100" in html  # hardware of the records

    def test_the_team_page_downloads_a_chart_of_its_own_team(self, tenant, outsider):
        seed(tenant)
        path = f"/teams/research/?{Q1}&download=trend-scope2"
        # Research: atlas-chat's records 0 and 2 (January, March), atlas-7b's 1 and 3
        # (February, January), each 0.048 MWh, 0.0024 t, 0.000821 t market-based.
        assert rows(tenant.client_for("admin").get(path))[1:] == [
            ["2026-01", "atlas-7b", "0.048", "0.0024", "0.000821", "1"],
            ["2026-01", "atlas-chat", "0.048", "0.0024", "0.000821", "1"],
            ["2026-02", "atlas-7b", "0.048", "0.0024", "0.000821", "1"],
            ["2026-03", "atlas-chat", "0.048", "0.0024", "0.000821", "1"],
        ]
        assert tenant.client_for("engineer").get(path).status_code == 404  # not its team
        assert rows(outsider.client_for("admin").get(path))[1:] == []  # its own research team
        assert (
            tenant.client_for("admin").get("/teams/research/?download=top-models").status_code
            == 404
        )

    def test_the_model_page_shows_intensity_per_inference_and_token(self, tenant):
        seed(tenant)
        body = workload(
            external_id="serve-1",
            team="serving",
            model="atlas-chat",
            phase="inference",
            energy_kwh=10.0,
            inferences=200_000,
            tokens=80_000_000,
            started_at="2026-02-10T00:00:00Z",
            ended_at="2026-02-11T00:00:00Z",
        )
        posted_and_computed(tenant, body)
        model = AiModel.objects.get(organisation=tenant.organisation, name="atlas-chat")
        html = tenant.client_for("admin").get(f"/models/{model.id}/?{Q1}").content.decode()
        # 10 kWh × PUE 1.2 × 0.05 kg/kWh = 0.6 kg: 3 g per 1k inferences, 7.5 g per 1M tokens.
        assert kpi(html, "scope2-g_per_1k_inferences") == "3.00"
        assert kpi(html, "scope2-g_per_1m_tokens") == "7.50"
        assert 'data-kpi="scope3_cat1-g_per_1k_inferences"' not in html
        intensity = rows(
            tenant.client_for("admin").get(f"/models/{model.id}/?{Q1}&download=intensity")
        )
        assert intensity[1][:2] == ["2026-02", "scope2"]
        assert float(intensity[1][5]) == pytest.approx(3.0)

    def test_an_engineer_sees_a_shared_model_only_through_their_teams(self, tenant):
        seed(tenant)
        model = AiModel.objects.get(organisation=tenant.organisation, name="atlas-chat")
        html = tenant.client_for("engineer").get(f"/models/{model.id}/?{Q1}").content.decode()
        assert kpi(html, "records") == "1"
        only_research = AiModel.objects.create(organisation=tenant.organisation, name="vision")
        assert tenant.client_for("engineer").get(f"/models/{only_research.id}/").status_code == 404

    def test_other_organisations_get_404(self, tenant, outsider):
        seed(tenant)
        team_create(organisation=tenant.organisation, name="Vision", slug="vision")
        model = AiModel.objects.get(organisation=tenant.organisation, name="atlas-chat")
        client = outsider.client_for("admin")
        assert client.get("/teams/vision/").status_code == 404
        assert client.get(f"/models/{model.id}/").status_code == 404
        # Their own team of the same slug shows none of the tenant's figures.
        html = client.get(f"/teams/research/?{Q1}").content.decode()
        assert kpi(html, "records") == "0"

    def test_anonymous_visitors_are_sent_to_log_in(self, client, tenant):
        for path in ("/", "/teams/research/", "/models/1/"):
            assert client.get(path)["Location"].startswith("/login/")


class TestPeriods:
    def test_the_comparison_quarter_is_the_last_complete_one(self):
        current, before = last_full_quarter(date(2026, 12, 1))
        assert (current.label, before.label) == ("2026 Q3", "2026 Q2")
        current, before = last_full_quarter(date(2026, 10, 1))
        assert (current.label, before.label) == ("2026 Q3", "2026 Q2")
        current, before = last_full_quarter(date(2026, 1, 1))
        assert (current.label, before.label) == ("2025 Q4", "2025 Q3")

    def test_bad_dates_fall_back_to_the_last_twelve_months(self, rf):
        filters, key = parse_filters(rf.get("/?start=2026-05-01&end=2026-01-01&team=x"))
        assert key == "12m"
        assert filters.team_id is None
        assert (filters.end.year * 12 + filters.end.month) - (
            filters.start.year * 12 + filters.start.month
        ) == 12


@pytest.mark.django_db
def test_the_embodied_kpi_names_cloud_instances_apart_from_owned_hardware(tenant, outsider):
    from inventory.pipeline import records_compute
    from tests.inventory.test_pipeline import stored_cloud_usage

    # A whole m5.24xlarge (96 of its family's 96 vCPUs) for 24 h = 2304 vCPU-h: CCF's m5
    # platform 1610.79 kg / 35040 h × 2304 / 96 = 1.10328 kg = 0.001 t (Scope 3 category 1,
    # named beside owned hardware's, which has none here).
    stored_cloud_usage(tenant, quantity=2304.0, instance_type="m5.24xlarge")
    stored_cloud_usage(outsider, quantity=2304.0 * 1000, instance_type="m5.24xlarge")
    records_compute()
    html = tenant.client_for("esg_officer").get(f"/?{Q1}").content.decode()
    assert kpi(html, "embodied_t") == "—"
    assert "cloud GPUs and instances 0.001 t" in html  # not the other organisation's 1.103 t
