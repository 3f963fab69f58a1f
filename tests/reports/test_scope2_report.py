import csv
import io

import pytest
from django.db.models import Sum
from drf_spectacular.generators import SchemaGenerator
from openpyxl import load_workbook

from inventory.models import DailyRollup
from tests.reports.scope2_data import job, scope2, seed_quarter, send


@pytest.mark.django_db
class TestScope2Report:
    def test_it_shows_location_and_market_based_totals_side_by_side(self, tenant):
        body = scope2(seed_quarter(tenant)).json()
        assert body["status"] == "draft"
        assert body["period"] == {"label": "2026 Q1", "start": "2026-01-01", "end": "2026-04-01"}
        assert body["scope2"]["mwh"] == pytest.approx(0.216)
        assert body["scope2"]["location_t"] == pytest.approx(0.0108)
        assert body["scope2"]["market_t"] == pytest.approx(0.0116)
        assert body["scope2"]["market_complete"] is True
        assert body["scope2"]["record_count"] == 3

    def test_public_cloud_is_shown_beside_and_never_added_to_scope2(self, tenant):
        body = scope2(seed_quarter(tenant)).json()
        cloud = DailyRollup.objects.filter(scope="scope3_cat1", day__year=2026).aggregate(
            kwh=Sum("facility_kwh"), kg=Sum("location_kg")
        )
        assert body["scope3_cat1"]["record_count"] == 1
        assert body["scope3_cat1"]["mwh"] == pytest.approx(cloud["kwh"] / 1000)
        assert body["scope3_cat1"]["location_t"] == pytest.approx(cloud["kg"] / 1000)
        assert [line["label"] for line in body["scope3_cat1"]["by_location"]] == [
            "aws:us-east-1 (" + body["scope3_cat1"]["by_location"][0]["zone"] + ")"
        ]
        # Scope 2 breakdowns know nothing of the cloud record.
        assert {line["code"] for line in body["breakdowns"]["location"]} == {"lab-paris"}

    def test_every_breakdown_adds_up_to_the_scope2_totals(self, tenant):
        body = scope2(seed_quarter(tenant)).json()
        for name in ("team", "model", "location", "phase", "tier"):
            lines = body["breakdowns"][name]
            assert sum(line["mwh"] for line in lines) == pytest.approx(0.216), name
            assert sum(line["location_t"] for line in lines) == pytest.approx(0.0108), name
            assert sum(line["market_t"] for line in lines) == pytest.approx(0.0116), name
        phases = {line["key"]: line for line in body["breakdowns"]["phase"]}
        assert phases["fine_tuning"]["location_t"] == pytest.approx(0.006)
        assert phases["fine_tuning"]["market_t"] == pytest.approx(0.0116)
        assert phases["inference"]["market_t"] == pytest.approx(0.0)
        tiers = {line["key"]: line["mwh"] for line in body["breakdowns"]["tier"]}
        assert tiers == pytest.approx({"measured": 0.12, "metered": 0.096})
        teams = {line["label"]: line["share"] for line in body["breakdowns"]["team"]}
        assert teams == pytest.approx({"Research": 168 / 216, "Serving": 48 / 216})

    def test_it_shows_the_share_each_instrument_kind_covers_and_the_renewable_share(self, tenant):
        market = scope2(seed_quarter(tenant)).json()["market"]
        categories = {c["key"]: c for c in market["categories"]}
        assert categories["eac"]["mwh"] == pytest.approx(0.1)
        assert categories["eac"]["share"] == pytest.approx(100 / 216)
        assert categories["residual_mix"]["market_t"] == pytest.approx(0.0116)
        assert market["instrument_share"] == pytest.approx(100 / 216)
        assert market["renewable_share"] == pytest.approx(100 / 216)
        [instrument] = market["instruments"]
        assert instrument["reference"] == "GO-2026-0001"
        assert instrument["allocated_mwh"] == pytest.approx(0.1)
        assert instrument["renewable"] is True

    def test_it_gives_intensity_per_model_and_scope_from_inference_records(self, tenant):
        rows = {
            (r["label"], r["scope"]): r for r in scope2(seed_quarter(tenant)).json()["intensity"]
        }
        assert set(rows) == {("atlas-chat", "scope2"), ("atlas-chat", "scope3_cat1")}
        own = rows[("atlas-chat", "scope2")]
        # Feb at lab-paris: 48 kWh × 0.05 kg/kWh = 2.4 kg over 1M inferences and 50M tokens;
        # its 48 kWh are covered by the zero-emission certificate: market-based 0 g.
        assert (own["inferences"], own["tokens"]) == (1_000_000, 50_000_000)
        assert own["location_g_per_1k_inferences"] == pytest.approx(2.4 * 1e6 / 1_000_000)
        assert own["location_g_per_1m_tokens"] == pytest.approx(2.4 * 1e9 / 50_000_000)
        assert own["market_g_per_1k_inferences"] == pytest.approx(0.0)
        cloud = rows[("atlas-chat", "scope3_cat1")]
        # Cloud inference: its own kg over its own 500k inferences, no market-based figure.
        assert (cloud["inferences"], cloud["tokens"]) == (500_000, 0)
        kg = cloud["location_t"] * 1000
        assert kg > 0
        assert cloud["location_g_per_1k_inferences"] == pytest.approx(kg * 1e6 / 500_000)
        assert cloud["market_t"] is None
        assert cloud["market_g_per_1k_inferences"] is None

    def test_it_compares_with_the_previous_quarter_and_last_year(self, tenant):
        body = scope2(seed_quarter(tenant)).json()
        previous = body["comparison"]["previous_quarter"]
        last_year = body["comparison"]["same_quarter_last_year"]
        assert previous["label"] == "2025 Q4"
        assert last_year["label"] == "2025 Q1"
        assert previous["scope2"]["mwh"] == pytest.approx(0.048)
        assert last_year["scope2"]["record_count"] == 1
        before = previous["scope2"]["location_t"]
        assert previous["change_pct"]["location_t"] == pytest.approx(
            (0.0108 - before) / before * 100
        )
        assert previous["change_pct"]["mwh"] == pytest.approx((0.216 - 0.048) / 0.048 * 100)

    def test_it_gives_year_to_date_and_nothing_after_the_quarter(self, tenant):
        client = seed_quarter(tenant)
        send(tenant, [job("may-train", __import__("datetime").date(2026, 5, 5))])
        DailyRollup.objects.filter(day__month=5).update(market_kg=None)  # not allocated yet
        body = scope2(client).json()
        # Q1: Jan 48 + Feb 48 + Mar 120 kWh; May's 48 kWh is after the quarter and nowhere in it.
        assert body["periods"]["year_to_date"]["scope2"]["mwh"] == pytest.approx(0.216)
        assert set(body["periods"]) == {"quarter", "year_to_date"}
        months = {row["month"]: row for row in body["trend"]}
        assert len(body["trend"]) == 24
        assert (body["trend"][0]["month"], body["trend"][-1]["month"]) == ("2024-04", "2026-03")
        assert "2026-05" not in months
        # A month without records is a gap, not a zero: Dec 2025 had none, Nov 2025 one.
        assert months["2025-12"]["scope2_location_t"] is None
        assert months["2025-11"]["scope2_mwh"] == pytest.approx(0.048)
        assert months["2026-03"]["scope3_cat1_location_t"] > 0
        assert months["2026-02"]["scope3_cat1_location_t"] is None
        q2 = scope2(client, quarter=2).json()
        assert q2["periods"]["year_to_date"]["scope2"]["mwh"] == pytest.approx(0.264)
        assert q2["scope2"]["market_complete"] is False
        assert q2["scope2"]["unallocated_mwh"] == pytest.approx(0.048)
        assert {row["month"]: row["scope2_mwh"] for row in q2["trend"]}["2026-05"] == (
            pytest.approx(0.048)
        )
        assert q2["trend"][-1]["month"] == "2026-06"

    def test_an_engineer_sees_only_their_teams_with_their_share_of_instruments(self, tenant):
        seed_quarter(tenant)
        body = scope2(tenant.client_for("engineer")).json()
        assert body["status"] == "team_view"
        assert [line["label"] for line in body["breakdowns"]["team"]] == ["Serving"]
        assert body["scope2"]["mwh"] == pytest.approx(0.048)
        # Serving's February was wholly covered by the certificate.
        assert body["market"]["instrument_share"] == pytest.approx(1.0)

    def test_another_organisation_sees_none_of_it(self, tenant, outsider):
        seed_quarter(tenant)
        body = scope2(outsider.client_for("admin")).json()
        assert body["scope2"]["record_count"] == 0
        assert body["market"]["instruments"] == []
        assert body["breakdowns"]["team"] == []

    def test_it_names_bad_parameters(self, tenant):
        response = tenant.client_for("auditor").get("/api/v1/reports/scope2/?year=26&quarter=5")
        assert response.status_code == 400
        assert {e["field"] for e in response.json()["errors"]} == {"year", "quarter"}

    def test_an_ingest_only_token_cannot_read_it(self, tenant):
        assert scope2(tenant.token_client(scopes=("ingest",))).status_code == 403

    def test_csv_and_xlsx_carry_the_api_figures(self, tenant):
        client = seed_quarter(tenant)
        body = scope2(client).json()
        response = client.get("/api/v1/reports/scope2/csv/?year=2026&quarter=1")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "acme-scope2-2026-Q1-draft.csv" in response["Content-Disposition"]
        text = response.content.decode()
        rows = list(csv.reader(line for line in io.StringIO(text) if not line.startswith("#")))
        figures = {(r[0], r[1]): r for r in rows[1:]}
        total = figures[("scope2", "total")]
        assert float(total[4]) == body["scope2"]["mwh"]
        assert float(total[5]) == body["scope2"]["location_t"]
        assert float(total[6]) == body["scope2"]["market_t"]
        assert float(figures[("scope3_cat1", "total")][5]) == body["scope3_cat1"]["location_t"]
        team = body["breakdowns"]["team"][0]
        assert float(figures[("team", team["key"])][5]) == team["location_t"]

        response = client.get("/api/v1/reports/scope2/xlsx/?year=2026&quarter=1")
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        sheet = {(r[0], r[1]): r for r in book["Figures"].iter_rows(values_only=True)}
        # Excel keeps 15 significant digits.
        assert sheet[("scope2", "total")][6] == pytest.approx(body["scope2"]["market_t"], rel=1e-14)
        assert book["Intensity"]["A2"].value == "atlas-chat"

    def test_the_page_shows_the_report_with_its_charts(self, tenant):
        client = seed_quarter(tenant)
        html = client.get("/reports/2026/Q1/").content.decode()
        assert 'data-figure="scope2-location-t">0.011<' in html
        assert 'data-figure="scope2-market-t">0.012<' in html
        assert 'data-figure="instrument-share">46.3 %<' in html
        assert 'id="trend-data"' in html
        assert "Public cloud: Scope 3 category 1, shown beside, not included in Scope 2" in html
        assert "Prepare the close of 2026 Q1…" in html
        index = client.get("/reports/").content.decode()
        assert "/reports/2026/Q1/" in index
        assert "/reports/2025/Q4/" in index

    def test_the_page_is_for_members_only(self, client, tenant, django_user_model):
        assert client.get("/reports/2026/Q1/").status_code == 302
        client.force_login(django_user_model.objects.create_user("loner", password="x" * 12))
        assert client.get("/reports/2026/Q1/").status_code == 404


def test_the_schema_declares_the_quarter_bounds_the_report_api_enforces():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/v1/reports/scope2/", "/api/v1/reports/scope2/factors/"):
        parameters = {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["year"] == {"type": "integer", "minimum": 2000, "maximum": 2100}
        assert parameters["quarter"] == {"type": "integer", "minimum": 1, "maximum": 4}
