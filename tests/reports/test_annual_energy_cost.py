"""Energy cost in the annual report: per quarter and for the year, per scope and currency
(never added across currencies), the same in the API, the page, the XLSX and the PDF.

FY2026 (calendar year), lab-paris (FR, PUE 1.2, override 0.05 kg/kWh), tariff 0.2 EUR/kWh
for 2026 ("Supply contract 2026"):
  Q1 10 Feb  8 GPUs × 0.7 kW × 24 h = 134.4 kWh IT × 1.2 = 161.28 kWh → 32.256 EUR
  Q2 10 May  8 GPUs × 0.5 kW × 10 h = 40 kWh IT × 1.2 = 48 kWh → 9.6 EUR
     10 May  public cloud (aws:us-east-1, Scope 3 cat. 1) billed 12.5 USD
  Q3, Q4     no records: no data, never 0
  Year       Scope 2: 32.256 + 9.6 = 41.856 EUR; public cloud: 12.5 USD
Globex's 99 GBP record never appears.
"""

import io
import json
from datetime import date

import pytest
from django.db import connection
from openpyxl import load_workbook

from inventory.pipeline import records_compute
from reports.models import ReportVersion
from tests.inventory.test_embodied_and_cost import add_tariff
from tests.inventory.test_pipeline import (
    fr_override,
    stored_batch,
    stored_cloud_usage,
    stored_workload,
)
from tests.reports.annual_data import annual
from tests.reports.test_annual_report import close
from tests.reports.test_audit_pdf import pdf_text
from tests.reports.test_scope2_energy_cost import cost_row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

Q1_EUR, Q2_EUR, USD = 32.256, 9.6, 12.5
YEAR_EUR = 41.856


@pytest.fixture
def fiscal_2026(tenant, outsider, django_capture_on_commit_callbacks):
    tenant.organisation.fiscal_year_start_month = 1
    tenant.organisation.save()
    fr_override(tenant.organisation)
    answer = add_tariff(tenant, django_capture_on_commit_callbacks, price_per_kwh=0.2)
    assert answer.status_code == 201, answer.content
    batch = stored_batch(tenant)
    stored_workload(
        tenant, batch, day=date(2026, 2, 10), hours=24.0, device_count=8, avg_power_w=700.0
    )
    stored_workload(tenant, batch, day=date(2026, 5, 10), device_count=8, avg_power_w=500.0)
    stored_cloud_usage(tenant, batch, day=date(2026, 5, 10), cost=USD, currency="USD")
    stored_workload(outsider, avg_power_w=100.0, cost=99.0, currency="GBP")
    records_compute()
    return tenant.client_for("esg_officer")


def amounts(costs: list[dict] | None) -> dict | None:
    if costs is None:
        return None
    return {(c["scope"], c["currency"]): pytest.approx(c["amount"]) for c in costs}


class TestAnnualEnergyCost:
    def test_each_quarter_and_the_year_give_their_cost_per_scope_and_currency(self, fiscal_2026):
        body = annual(fiscal_2026, 2026).json()
        q1, q2, q3, q4 = body["quarters"]
        assert amounts(q1["costs"]) == {("scope2", "EUR"): Q1_EUR}
        assert amounts(q2["costs"]) == {("scope2", "EUR"): Q2_EUR, ("scope3_cat1", "USD"): USD}
        assert (q3["costs"], q4["costs"]) == ([], [])  # no data: nothing priced
        assert amounts(body["year"]["costs"]) == {
            ("scope2", "EUR"): YEAR_EUR,
            ("scope3_cat1", "USD"): USD,
        }
        assert "GBP" not in json.dumps(body)

    def test_the_page_xlsx_and_pdf_show_the_apis_costs(self, fiscal_2026):
        html = fiscal_2026.get("/reports/annual/2026/").content.decode()
        assert "GBP" not in html
        # Label, Q1-Q4, the year, the previous year (no data) and its change, at 2 decimals.
        assert cost_row(html, "scope2:EUR") == [
            *("Scope 2 energy cost (EUR)", "32.26", "9.60", "no data", "no data", "41.86"),
            *("no data", "—"),
        ]
        assert cost_row(html, "scope3_cat1:USD")[1:3] == ["not available", "12.50"]

        book = load_workbook(io.BytesIO(annual(fiscal_2026, 2026, "xlsx/").content))
        rows = {row[0]: row for row in book["Energy cost"].iter_rows(values_only=True)}
        assert rows["energy cost"][1:6] == (
            "FY2026 Q1 (Jan–Mar 2026)",
            "FY2026 Q2 (Apr–Jun 2026)",
            "FY2026 Q3 (Jul–Sep 2026)",
            "FY2026 Q4 (Oct–Dec 2026)",
            "FY2026 total",
        )
        eur = rows["Scope 2 energy cost (EUR)"]
        assert eur[1:3] == (pytest.approx(Q1_EUR), pytest.approx(Q2_EUR))
        assert (eur[3], eur[5]) == ("no data", pytest.approx(YEAR_EUR))
        assert rows["Public cloud energy cost (Scope 3 cat. 1) (USD)"][2] == USD

        text = pdf_text(annual(fiscal_2026, 2026, "pdf/").content)
        flat = " ".join(text.split())
        assert "Scope 2 energy cost (EUR) 32.26 9.60 no data no data 41.86" in flat
        assert "GBP" not in text

    def test_a_quarter_locked_before_cost_leaves_the_years_cost_not_computed(
        self, fiscal_2026, tenant
    ):
        close(tenant, 2026, 1)
        version = ReportVersion.objects.get()
        old = dict(version.report)
        for scope in ("scope2", "scope3_cat1"):
            old[scope] = {k: v for k, v in old[scope].items() if k != "costs"}
        with connection.cursor() as cursor:  # locked versions refuse ORM writes
            cursor.execute(
                "UPDATE reports_reportversion SET report = %s WHERE id = %s",
                [json.dumps(old), version.id],
            )
        body = annual(fiscal_2026, 2026).json()
        assert body["quarters"][0]["costs"] is None
        assert amounts(body["quarters"][1]["costs"])[("scope2", "EUR")] == Q2_EUR
        assert body["year"]["costs"] is None  # never a year's sum that leaves Q1 out
        html = fiscal_2026.get("/reports/annual/2026/").content.decode()
        assert cost_row(html, "scope2:EUR")[1:6] == [
            "not computed when locked",
            "9.60",
            "no data",
            "no data",
            "not computed when locked",
        ]
