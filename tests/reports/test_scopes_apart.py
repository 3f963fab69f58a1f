"""Scope 2 and public cloud (Scope 3 category 1) are never added together: every page, chart
download, API group and export of a period sums, scope by scope, to the Scope 2 report of that
period, and public cloud never shows a market-based figure.

The quarter (tests/reports/scope2_data.py): Scope 2 at lab-paris 48 + 48 + 120 kWh = 0.216 MWh,
location-based 2.4 + 2.4 + 6.0 kg = 0.0108 t, market-based 100 kWh under a zero-emission
certificate + 116 kWh × 0.1 kg/kWh residual mix = 0.0116 t; one public cloud record in March.
"""

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from inventory.models import AiModel
from tests.reports.scope2_data import rollup, scope2, seed_quarter

Q1 = "start=2026-01-01&end=2026-04-01"


def scope_sums(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per scope, the sums of a page table's rows (as the view hands them to the template)."""
    sums: dict[str, dict[str, float]] = {}
    for row in rows:
        for figures in row["scopes"]:
            scope = sums.setdefault(figures["key"], {"mwh": 0.0, "location_t": 0.0})
            scope["mwh"] += figures["mwh"]
            scope["location_t"] += figures["location_t"]
            if figures["market_based"]:
                scope["market_t"] = scope.get("market_t", 0.0) + figures["market_t"]
            else:
                assert figures["market_t"] is None
    return sums


def report_sums(report: dict) -> dict[str, dict[str, float]]:
    """The report's totals in the same shape; public cloud has no market-based figure."""
    scope2_totals, cloud = report["scope2"], report["scope3_cat1"]
    assert cloud["market_t"] is None
    return {
        "scope2": {
            "mwh": scope2_totals["mwh"],
            "location_t": scope2_totals["location_t"],
            "market_t": scope2_totals["market_t"],
        },
        "scope3_cat1": {"mwh": cloud["mwh"], "location_t": cloud["location_t"]},
    }


def assert_same(actual: dict[str, dict], expected: dict[str, dict]) -> None:
    assert set(actual) == set(expected)
    for scope, figures in expected.items():
        assert actual[scope] == pytest.approx(figures), scope


def line_sums(line: dict) -> dict[str, float]:
    return {"mwh": line["mwh"], "location_t": line["location_t"], "market_t": line["market_t"]}


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def table_html(html: str, table_id: str) -> str:
    return re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S).group(1)


@pytest.mark.django_db
class TestScopesApart:
    def test_the_report_has_no_market_based_figure_for_public_cloud(self, tenant):
        report = scope2(seed_quarter(tenant)).json()
        assert report["scope2"]["location_t"] == pytest.approx(0.0108)
        assert report["scope2"]["market_t"] == pytest.approx(0.0116)
        cloud = report["scope3_cat1"]
        assert cloud["location_t"] > 0
        assert cloud["market_t"] is None
        assert [line["market_t"] for line in cloud["by_location"]] == [None]
        for period in [*report["periods"].values(), *report["comparison"].values()]:
            assert period["scope3_cat1"]["market_t"] is None

    def test_the_overview_tables_sum_to_the_report_scope_by_scope(self, tenant):
        client = seed_quarter(tenant)
        expected = report_sums(scope2(client).json())
        response = client.get(f"/?{Q1}")
        for table in ("teams", "models"):
            assert_same(scope_sums(response.context[table]), expected)
        html = response.content.decode()
        teams = table_html(html, "teams-table")
        # Serving has both scopes: its cloud market cell is n/a, never a figure. Research has
        # no cloud records: no cloud figures at all, not zeros.
        assert teams.count('data-figure="scope3_cat1-market-t"><abbr') == 1
        assert teams.count('data-figure="scope3_cat1-none">no records<') == 1
        assert 'data-kpi="t">0.011<' in html
        assert 'data-kpi="market_t">0.012<' in html
        assert f'data-kpi="cloud_t">{expected["scope3_cat1"]["location_t"]:,.3f}<' in html

    def test_the_top_models_table_keeps_the_rest_in_one_line(self, tenant):
        client = seed_quarter(tenant)
        # 11 more models, 1..11 kWh each in January: 13 models, 10 shown and 3 in one line.
        for n in range(1, 12):
            model = AiModel.objects.create(organisation=tenant.organisation, name=f"m-{n:02d}")
            rollup(tenant, date(2026, 1, 20), float(n), ai_model=model)
            rollup(tenant, date(2026, 1, 21), float(n), "scope3_cat1", ai_model=model)
        expected = report_sums(scope2(client).json())
        rows = client.get(f"/?{Q1}").context["models"]
        assert len(rows) == 11
        # Smallest three: m-01..m-03, 1 + 2 + 3 kWh in each scope.
        assert rows[-1]["label"] == "3 other models"
        assert [f["mwh"] for f in rows[-1]["scopes"]] == pytest.approx([0.006, 0.006])
        assert rows[-1]["scopes"][1]["market_t"] is None
        assert_same(scope_sums(rows), expected)

    def test_the_team_and_model_pages_sum_to_the_report_lines(self, tenant):
        client = seed_quarter(tenant)
        report = scope2(client).json()
        teams = {line["label"]: line for line in report["breakdowns"]["team"]}
        models = {line["label"]: line for line in report["breakdowns"]["model"]}
        cloud_t = report["scope3_cat1"]["location_t"]

        # Serving: Feb inference at lab-paris (Scope 2) and the March cloud record.
        page = client.get(f"/teams/serving/?{Q1}").context
        assert_same(
            scope_sums(page["models"]),
            {
                "scope2": line_sums(teams["Serving"]),
                "scope3_cat1": {"mwh": report["scope3_cat1"]["mwh"], "location_t": cloud_t},
            },
        )
        assert scope_sums(page["locations"]) == scope_sums(page["models"])

        chat = AiModel.objects.get(organisation=tenant.organisation, name="atlas-chat")
        page = client.get(f"/models/{chat.id}/?{Q1}").context
        assert scope_sums(page["teams"])["scope2"] == pytest.approx(line_sums(models["atlas-chat"]))
        assert scope_sums(page["teams"])["scope3_cat1"]["location_t"] == pytest.approx(cloud_t)

    def test_the_footprint_api_groups_sum_to_the_report(self, tenant):
        client = seed_quarter(tenant)
        expected = report_sums(scope2(client).json())
        for group_by in ("team", "model", "month", "location", "scope"):
            body = client.get(f"/api/v1/footprint/?{Q1}&group_by={group_by}").json()
            for scope, figures in expected.items():
                groups = [group[scope] for group in [body["totals"], *body["groups"]]]
                total, lines = groups[0], groups[1:]
                for kg, t in (("facility_kwh", "mwh"), ("location_kg", "location_t")):
                    assert total[kg] / 1000 == pytest.approx(figures[t]), (group_by, scope, kg)
                    assert sum(g[kg] for g in lines) == pytest.approx(total[kg])
                if scope == "scope2":
                    assert total["market_status"] == "complete"
                    assert total["market_kg"] / 1000 == pytest.approx(figures["market_t"])
                    assert sum(g["market_kg"] or 0 for g in lines) == pytest.approx(
                        total["market_kg"]
                    )
                else:
                    assert {g["market_status"] for g in groups} == {"not applicable"}
                    assert {g["market_kg"] for g in groups} == {None}

    def test_the_chart_downloads_sum_to_the_report(self, tenant):
        client = seed_quarter(tenant)
        expected = report_sums(scope2(client).json())
        for scope in ("scope2", "scope3_cat1"):
            rows = csv_rows(client.get(f"/?{Q1}&download=trend-{scope}"))
            assert rows[0] == [
                "month",
                "team",
                "mwh",
                "location_t_co2e",
                "market_t_co2e",
                "records",
            ]
            assert sum(float(r[3]) for r in rows[1:]) == pytest.approx(
                expected[scope]["location_t"], abs=1e-5
            )
            if scope == "scope3_cat1":
                assert {r[4] for r in rows[1:]} == {"not applicable"}
        rows = csv_rows(client.get(f"/?{Q1}&download=top-models"))
        header = rows[0]
        assert header == [
            "model",
            "records",
            "scope2_mwh",
            "scope2_location_t_co2e",
            "scope2_market_t_co2e",
            "scope3_cat1_mwh",
            "scope3_cat1_location_t_co2e",
            "scope3_cat1_market_t_co2e",
        ]
        for column, scope, figure in (
            (3, "scope2", "location_t"),
            (4, "scope2", "market_t"),
            (6, "scope3_cat1", "location_t"),
        ):
            assert sum(float(r[column]) for r in rows[1:]) == pytest.approx(
                expected[scope][figure], abs=1e-5
            )
        assert {r[7] for r in rows[1:]} == {"not applicable"}

    def test_the_csv_and_xlsx_exports_say_cloud_market_is_not_applicable(self, tenant):
        client = seed_quarter(tenant)
        report = scope2(client).json()
        text = client.get("/api/v1/reports/scope2/csv/?year=2026&quarter=1").content.decode()
        rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
        # Period lines: "Scope 3 cat. 1", with its coverage after it when partial or empty.
        cloud = [
            r for r in rows if r[0].startswith("scope3_cat1") or r[2].startswith("Scope 3 cat. 1")
        ]
        assert len(cloud) == 1 + 4 + 1  # total; quarter, YTD and 2 comparisons; one region
        assert {r[6] for r in cloud} == {"not applicable"}
        [total] = [r for r in rows if r[:2] == ["scope2", "total"]]
        assert float(total[5]) == pytest.approx(report["scope2"]["location_t"])
        assert float(total[6]) == pytest.approx(report["scope2"]["market_t"])
        book = load_workbook(
            io.BytesIO(client.get("/api/v1/reports/scope2/xlsx/?year=2026&quarter=1").content)
        )
        sheet = [list(r) for r in book["Figures"].iter_rows(values_only=True)]
        [xlsx_cloud] = [r for r in sheet if r[:2] == ["scope3_cat1", "total"]]
        assert xlsx_cloud[6] == "not applicable"
        assert xlsx_cloud[5] == pytest.approx(report["scope3_cat1"]["location_t"])

    def test_an_engineer_limited_to_a_team_gets_that_team_line_everywhere(self, tenant):
        client = seed_quarter(tenant)
        serving = {line["label"]: line for line in scope2(client).json()["breakdowns"]["team"]}[
            "Serving"
        ]
        engineer = tenant.client_for("engineer")  # limited to Serving
        page = engineer.get(f"/?{Q1}").context
        assert scope_sums(page["teams"])["scope2"] == pytest.approx(line_sums(serving))
        api = engineer.get(f"/api/v1/footprint/?{Q1}&group_by=team").json()
        assert api["totals"]["scope2"]["location_kg"] / 1000 == pytest.approx(serving["location_t"])
        own = scope2(engineer).json()
        assert own["scope2"]["location_t"] == pytest.approx(serving["location_t"])

    def test_another_organisation_sees_none_of_these_figures(self, tenant, outsider):
        seed_quarter(tenant)
        client = outsider.client_for("admin")
        assert client.get(f"/?{Q1}").context["teams"] == []
        body = client.get(f"/api/v1/footprint/?{Q1}&group_by=team").json()
        assert body["groups"] == []
        assert body["totals"]["scope3_cat1"]["location_kg"] == 0


@pytest.mark.django_db
def test_it_shows_a_dash_not_zero_in_a_scope_card_with_no_records(tenant):
    client = seed_quarter(tenant)
    # Public cloud only: the quarter's one cloud record, and no Scope 2 record at all.
    html = client.get(f"/?{Q1}&scope=scope3_cat1").content.decode()
    assert 'data-kpi="t">—<' in html
    assert 'data-kpi="market_t">—<' in html
    assert html.count("no Scope 2 records for these filters") == 2
    assert 'data-kpi="t">0.000<' not in html
    # Scope 2 only: the cloud card has nothing to show either.
    html = client.get(f"/?{Q1}&scope=scope2").content.decode()
    assert 'data-kpi="cloud_t">—<' in html
    assert "no public cloud records for these filters" in html
    # With both scopes the figures are there (0.0108 t location-based, as above).
    html = client.get(f"/?{Q1}").content.decode()
    assert 'data-kpi="t">0.011<' in html
