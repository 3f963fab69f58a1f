"""Energy cost in the Scope 2 report: per scope and location line, per currency (never added
across currencies), the same in the JSON, the CSV, the XLSX, the page and the audit PDF.

Acme, 2026 Q1, lab-paris (FR, PUE 1.2, organisation override 0.05 kg/kWh), a tariff of
0.2 EUR/kWh from 1 Feb 2026 ("Supply contract 2026"):
  10 Feb  8 GPUs × 0.7 kW × 24 h = 134.4 kWh IT × 1.2 = 161.28 kWh facility
          → 161.28 × 0.2 = 32.256 EUR; 161.28 × 0.05 = 8.064 kg → 8.064 / 32.256 = 0.25 kg/EUR
  10 Jan  8 GPUs × 0.5 kW × 10 h = 40 kWh IT × 1.2 = 48 kWh facility, before the tariff:
          no cost (not available, never 0)
  Scope 2: 161.28 + 48 = 209.28 kWh = 0.20928 MWh, of which 0.16128 MWh has a cost (1 of 2
  records).
  10 Jan  public cloud (aws:us-east-1, Scope 3 cat. 1), team serving: 100 vCPU-hours billed
          12.5 USD.
Globex (another organisation) has a record that cost 99 GBP: it never appears.
"""

import csv
import io
import json
import re
from datetime import date

import pytest
from django.db import connection
from openpyxl import load_workbook

from inventory.pipeline import records_compute
from reports.cost_sci_selectors import merged_cost_fields
from reports.models import ReportVersion
from tests.inventory.test_embodied_and_cost import add_tariff
from tests.inventory.test_pipeline import (
    fr_override,
    stored_batch,
    stored_cloud_usage,
    stored_workload,
)
from tests.reports.closing import close_quarter
from tests.reports.scope2_data import scope2
from tests.reports.test_audit_pdf import export, pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

EUR = 32.256  # 161.28 kWh × 0.2 EUR/kWh
COSTED_MWH = 0.16128
SCOPE2_MWH = 0.20928
KG_PER_EUR = 0.25  # 8.064 kg / 32.256 EUR
USD = 12.5
COST_KEYS = ("currency", "amount", "mwh", "record_count", "location_t")


@pytest.fixture
def priced(tenant, outsider, django_capture_on_commit_callbacks):
    """Acme's quarter above, computed; Globex's 99 GBP record beside it."""
    fr_override(tenant.organisation)
    answer = add_tariff(
        tenant, django_capture_on_commit_callbacks, price_per_kwh=0.2, valid_from="2026-02-01"
    )
    assert answer.status_code == 201, answer.content
    batch = stored_batch(tenant)
    stored_workload(
        tenant, batch, day=date(2026, 2, 10), hours=24.0, device_count=8, avg_power_w=700.0
    )
    stored_workload(tenant, batch, day=date(2026, 1, 10), device_count=8, avg_power_w=500.0)
    stored_cloud_usage(tenant, batch, cost=USD, currency="USD", team=tenant.teams["serving"])
    stored_workload(outsider, avg_power_w=100.0, cost=99.0, currency="GBP")
    records_compute()
    return tenant.client_for("esg_officer")


def csv_figures(client) -> tuple[list[str], dict]:
    text = client.get("/api/v1/reports/scope2/csv/?year=2026&quarter=1").content.decode()
    assert "GBP" not in text
    header, *rows = csv.reader(line for line in io.StringIO(text) if not line.startswith("#"))
    return header, {(row[0], row[1]): dict(zip(header, row, strict=True)) for row in rows}


def cost_row(html: str, key: str) -> list[str]:
    """The cells of a page's cost table row marked `key` (data-cost), as text."""
    row = re.search(rf'<tr[^>]*data-cost="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert row, key
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row[1])
    return [re.sub(r"<[^>]+>", "", cell) for cell in cells]


class TestTheReportPricesItsEnergy:
    def test_the_json_gives_each_scope_and_location_its_cost_per_currency(self, priced):
        body = scope2(priced).json()
        scope2_totals, cloud = body["scope2"], body["scope3_cat1"]
        assert scope2_totals["mwh"] == pytest.approx(SCOPE2_MWH)
        (eur,) = scope2_totals["costs"]
        assert eur["currency"] == "EUR"
        assert eur["amount"] == pytest.approx(EUR)
        assert eur["mwh"] == pytest.approx(COSTED_MWH)
        assert eur["record_count"] == 1
        assert eur["location_t"] == pytest.approx(0.008064)
        assert eur["location_kg_per_unit"] == pytest.approx(KG_PER_EUR)
        # How much of the energy has a cost: the January record has none (not available).
        assert scope2_totals["costed_mwh"] == pytest.approx(COSTED_MWH)
        assert (scope2_totals["costed_records"], scope2_totals["record_count"]) == (1, 2)
        (paris,) = body["breakdowns"]["location"]
        assert paris["code"] == "lab-paris"
        assert paris["costs"] == scope2_totals["costs"]
        # Public cloud: the billed USD, beside Scope 2 and never added to its euros.
        (usd,) = cloud["costs"]
        assert (usd["currency"], usd["amount"], usd["record_count"]) == ("USD", USD, 1)
        assert cloud["costed_mwh"] == pytest.approx(cloud["mwh"])
        assert usd["location_kg_per_unit"] == pytest.approx(cloud["location_t"] * 1000 / USD)
        (region,) = cloud["by_location"]
        assert region["costs"] == cloud["costs"]
        assert "GBP" not in json.dumps(body)

    def test_a_quarter_without_any_cost_says_not_available_not_zero(self, tenant):
        stored_workload(tenant, avg_power_w=500.0)
        records_compute()
        body = scope2(tenant.client_for("esg_officer")).json()
        assert body["scope2"]["costs"] == []
        assert (body["scope2"]["costed_mwh"], body["scope2"]["costed_records"]) == (0.0, 0)
        html = tenant.client_for("esg_officer").get("/reports/2026/Q1/").content.decode()
        assert cost_row(html, "scope2:total:") == ["Scope 2 total", "not available"]

    def test_an_engineer_of_the_serving_team_sees_only_its_teams_cost(self, priced, tenant):
        # The serving team has the cloud usage only: no euros, the 12.5 USD.
        body = scope2(tenant.client_for("engineer")).json()
        assert body["teams_limited"] is True
        assert body["scope2"]["costs"] == []
        assert [(c["currency"], c["amount"]) for c in body["scope3_cat1"]["costs"]] == [
            ("USD", USD)
        ]

    def test_the_csv_and_xlsx_carry_the_same_per_currency_sums(self, priced):
        header, figures = csv_figures(priced)
        assert header[-6:] == [
            "costed_MWh",
            "costed_records",
            "energy_cost_EUR",
            "energy_cost_USD",
            "location_kg_CO2e_per_EUR",
            "location_kg_CO2e_per_USD",
        ]
        total = figures[("scope2", "total")]
        assert float(total["energy_cost_EUR"]) == pytest.approx(EUR)
        assert total["energy_cost_USD"] == ""  # Scope 2 paid nothing in dollars
        assert float(total["costed_MWh"]) == pytest.approx(COSTED_MWH)
        assert float(total["location_kg_CO2e_per_EUR"]) == pytest.approx(KG_PER_EUR)
        cloud = figures[("scope3_cat1", "total")]
        assert (cloud["energy_cost_EUR"], float(cloud["energy_cost_USD"])) == ("", USD)
        location = next(row for (section, _), row in figures.items() if section == "location")
        assert float(location["energy_cost_EUR"]) == pytest.approx(EUR)
        team = next(row for (section, _), row in figures.items() if section == "team")
        assert team["energy_cost_EUR"] == ""  # cost is reported per scope and location only

        response = priced.get("/api/v1/reports/scope2/xlsx/?year=2026&quarter=1")
        rows = list(
            load_workbook(io.BytesIO(response.content))["Figures"].iter_rows(values_only=True)
        )
        columns = rows[0]
        sheet = {(row[0], row[1]): dict(zip(columns, row, strict=True)) for row in rows[1:]}
        assert sheet[("scope2", "total")]["energy_cost_EUR"] == pytest.approx(EUR)
        assert sheet[("scope3_cat1", "total")]["energy_cost_USD"] == pytest.approx(USD)

    def test_the_page_table_shows_the_reports_totals(self, priced):
        html = priced.get("/reports/2026/Q1/").content.decode()
        assert "GBP" not in html
        # 32.256 EUR at 2 decimals; 0.161 of 0.209 MWh has a cost; 0.25 kg per EUR.
        assert cost_row(html, "scope2:total:EUR") == [
            "Scope 2 total",
            "EUR",
            "32.26",
            "0.161",
            "1",
            "0.250",
            "0.161 of 0.209",
        ]
        assert cost_row(html, "scope3_cat1:total:USD")[:3] == [
            "Public cloud total (Scope 3 cat. 1)",
            "USD",
            "12.50",
        ]

    def test_the_audit_pdf_shows_the_costs_and_the_tariff_used(self, priced):
        job = export(priced)
        assert job["status"] == "done", job
        text = pdf_text(priced.get(job["download_url"]).content)
        flat = re.sub(r"\s+", " ", text)
        assert "Energy cost" in text
        assert re.search(r"Scope 2 total\s+EUR\s+32\.26\s+0\.161\s+1\s+0\.250", flat), flat
        assert re.search(r"USD\s+12\.50", flat)
        # The tariff row behind the euros, with its source.
        assert "lab-paris: 0.2 EUR/kWh, Supply contract 2026" in flat
        assert "GBP" not in text


class TestAQuarterLockedBeforeCost:
    @pytest.fixture
    def locked_before_cost(self, priced):
        assert close_quarter(priced).status_code == 201
        version = ReportVersion.objects.get()
        old = dict(version.report)
        costs = ("costs", "costed_mwh", "costed_records")
        old["scope2"] = {k: v for k, v in old["scope2"].items() if k not in costs}
        old["scope3_cat1"] = {k: v for k, v in old["scope3_cat1"].items() if k not in costs}
        old["breakdowns"]["location"] = [
            {k: v for k, v in line.items() if k not in costs}
            for line in old["breakdowns"]["location"]
        ]
        with connection.cursor() as cursor:  # locked versions refuse ORM writes
            cursor.execute(
                "UPDATE reports_reportversion SET report = %s WHERE id = %s",
                [json.dumps(old), version.id],
            )
        return priced

    def test_it_shows_cost_as_not_computed_when_locked_never_zero(self, locked_before_cost):
        client = locked_before_cost
        body = scope2(client).json()
        assert body["status"] == "locked"
        assert (body["scope2"]["costs"], body["scope2"]["costed_mwh"]) == (None, None)
        assert body["breakdowns"]["location"][0]["costs"] is None
        # The cloud region line kept its cost in this version: only what is missing is None.
        assert body["scope3_cat1"]["by_location"][0]["costs"][0]["amount"] == USD
        html = client.get("/reports/2026/Q1/").content.decode()
        assert cost_row(html, "scope2:total:") == ["Scope 2 total", "not computed when locked"]
        _, figures = csv_figures(client)
        assert figures[("scope2", "total")]["costed_MWh"] == "not computed when locked"
        region = body["scope3_cat1"]["by_location"][0]["key"]
        assert float(figures[("scope3_cat1_location", region)]["energy_cost_USD"]) == USD


def test_the_openapi_schema_declares_the_cost_fields(tenant):
    response = tenant.client_for("esg_officer").get("/api/schema/?format=json")
    components = json.loads(response.content)["components"]["schemas"]
    assert set(components["Scope2Cost"]["properties"]) == {
        "currency",
        "amount",
        "mwh",
        "record_count",
        "location_t",
        "location_kg_per_unit",
    }
    for name in ("Scope2Totals", "Scope2CloudTotals", "Scope2LocationLine"):
        fields = components[name]["properties"]
        assert {"costs", "costed_mwh", "costed_records"} <= set(fields), name
        assert fields["costs"]["nullable"] is True  # null: not computed when locked
    assert "costs" not in components["Scope2Line"]["properties"]  # teams, models: no cost
    assert set(components["AnnualCost"]["properties"]) == {"scope", "currency", "amount"}
    for name in ("AnnualQuarter", "AnnualYear", "AnnualComparison"):
        assert "costs" in components[name]["properties"], name


def test_lines_printed_together_keep_their_costs_per_currency():
    # Two lines in EUR: 10 + 5 = 15 EUR over 0.1 + 0.05 = 0.15 MWh, 2 + 1 records,
    # 5 + 2.5 = 7.5 kg → 0.5 kg/EUR; one in USD: 3 USD, 1 kg → 1/3 kg/USD. Costed energy:
    # 0.15 + 0.01 = 0.16 MWh, 4 records.
    def line(*costs):
        return {"costs": [dict(zip(COST_KEYS, cost, strict=True)) for cost in costs]}

    lines = [
        line(("EUR", 10.0, 0.1, 2, 0.005)),
        line(("EUR", 5.0, 0.05, 1, 0.0025), ("USD", 3.0, 0.01, 1, 0.001)),
    ]
    merged = merged_cost_fields(lines)
    eur, usd = merged["costs"]
    assert (eur["currency"], eur["amount"], eur["record_count"]) == ("EUR", 15.0, 3)
    assert eur["mwh"] == pytest.approx(0.15)
    assert eur["location_kg_per_unit"] == pytest.approx(0.5)
    assert (usd["currency"], usd["amount"]) == ("USD", 3.0)
    assert usd["location_kg_per_unit"] == pytest.approx(1 / 3)
    assert merged["costed_mwh"] == pytest.approx(0.16)
    assert merged["costed_records"] == 4
    # A line of a version locked before cost: the remainder's cost is not computed either.
    assert merged_cost_fields([*lines, {"mwh": 0.2}]) == {}
