"""The annual report of a fiscal year: its quarters, the year, comparisons, final or draft."""

import io
from datetime import date

import pytest
from django.db.models import Sum
from drf_spectacular.generators import SchemaGenerator
from openpyxl import load_workbook

from accounts.models import AuditEvent
from accounts.principal import principal_for_membership
from inventory.models import DailyRollup
from reports.services import report_close_approve, report_close_prepare
from tests.reports.annual_data import annual, seed_fiscal_year
from tests.reports.scope2_data import rollup, scope2
from tests.reports.test_audit_pdf import pdf_text


def cloud_t(start: str, end: str) -> float:
    """The public cloud t CO2e the pipeline computed for [start, end) (from the library's
    coefficients; the Scope 3 tests check those)."""
    kg = DailyRollup.objects.filter(scope="scope3_cat1", day__gte=start, day__lt=end).aggregate(
        kg=Sum("location_kg")
    )["kg"]
    return kg / 1000


def close(tenant, year: int, quarter: int) -> None:
    """Lock a quarter as two people do: the ESG officer prepares, the admin approves."""
    esg, admin = tenant.members["esg_officer"], tenant.members["admin"]
    report_close_prepare(
        principal=principal_for_membership(esg),
        year=year,
        quarter=quarter,
        note="checked",
        user=esg.user,
    )
    report_close_approve(
        principal=principal_for_membership(admin), year=year, quarter=quarter, user=admin.user
    )


@pytest.mark.django_db
class TestAnnualReport:
    def test_its_quarters_follow_the_fiscal_start_month(self, tenant):
        body = annual(seed_fiscal_year(tenant)).json()
        assert body["fiscal_year"] == {
            "start_year": 2025,
            "label": "FY2025/26",
            "start": "2025-04-01",
            "end": "2026-04-01",
            "start_month": 4,
        }
        assert [(q["label"], q["calendar_quarter"]) for q in body["quarters"]] == [
            ("Q1 (Apr–Jun 2025)", "2025 Q2"),
            ("Q2 (Jul–Sep 2025)", "2025 Q3"),
            ("Q3 (Oct–Dec 2025)", "2025 Q4"),
            ("Q4 (Jan–Mar 2026)", "2026 Q1"),
        ]

    def test_its_figures_worked_by_hand(self, tenant):
        body = annual(seed_fiscal_year(tenant)).json()
        quarters = [q["figures"] for q in body["quarters"]]
        cloud = cloud_t("2025-07-01", "2025-10-01")
        assert cloud > 0
        # Scope 2 per quarter: 48 kWh × 0.05 = 2.4 kg; Q4 adds 120 kWh × 0.05 = 6 kg.
        assert [q["energy_mwh"] for q in quarters] == pytest.approx([0.048, 0.048, 0.048, 0.168])
        assert [q["scope2_location_t"] for q in quarters] == pytest.approx(
            [0.0024, 0.0024, 0.0024, 0.0084]
        )
        # The certificate covers May and August whole, 4 of November's 48 kWh; the residual
        # mix 0.1 kg/kWh the rest: 44 × 0.1 = 4.4 kg, 168 × 0.1 = 16.8 kg.
        assert [q["scope2_market_t"] for q in quarters] == pytest.approx([0, 0, 0.0044, 0.0168])
        assert [q["renewable_mwh"] for q in quarters] == pytest.approx([0.048, 0.048, 0.004, 0])
        assert [q["non_renewable_mwh"] for q in quarters] == pytest.approx([0, 0, 0.044, 0.168])
        assert [q["scope3_cat1_t"] for q in quarters] == pytest.approx([0, cloud, 0, 0])
        # Totals with each: Scope 2 + the cloud beside it, never inside the Scope 2 figure.
        assert quarters[1]["total_location_t"] == pytest.approx(0.0024 + cloud)
        assert quarters[1]["total_market_t"] == pytest.approx(0 + cloud)
        year = body["year"]
        assert year["coverage"] == "complete"
        assert year["figures"]["record_count"] == 6
        assert year["figures"]["energy_mwh"] == pytest.approx(0.048 * 3 + 0.168)  # 0.312
        assert year["figures"]["scope2_location_t"] == pytest.approx(0.0156)
        assert year["figures"]["scope2_market_t"] == pytest.approx(0.0212)
        assert year["figures"]["renewable_mwh"] == pytest.approx(0.1)  # the whole certificate
        assert year["figures"]["non_renewable_mwh"] == pytest.approx(0.212)
        assert year["figures"]["total_location_t"] == pytest.approx(0.0156 + cloud)
        assert year["figures"]["total_market_t"] == pytest.approx(0.0212 + cloud)

    def test_its_quarters_equal_each_quarters_scope2_report_and_the_year_their_sum(self, tenant):
        esg = seed_fiscal_year(tenant)
        body = annual(esg).json()
        for row in body["quarters"]:
            report = scope2(esg, year=row["year"], quarter=row["quarter"]).json()
            figures = row["figures"]
            assert figures["energy_mwh"] == report["scope2"]["mwh"]
            assert figures["scope2_location_t"] == report["scope2"]["location_t"]
            assert figures["scope2_market_t"] == report["scope2"]["market_t"]
            assert figures["scope3_cat1_t"] == report["scope3_cat1"]["location_t"]
            assert figures["renewable_mwh"] == report["market"]["renewable_mwh"]
            assert figures["record_count"] == (
                report["scope2"]["record_count"] + report["scope3_cat1"]["record_count"]
            )
        for key, value in body["year"]["figures"].items():
            assert value == pytest.approx(sum(q["figures"][key] for q in body["quarters"])), key

    def test_a_partial_previous_year_is_marked_and_not_compared(self, tenant):
        body = annual(seed_fiscal_year(tenant)).json()
        previous = body["previous_year"]
        assert previous["label"] == "FY2024/25"
        assert previous["coverage"] == "partial"
        assert previous["figures"]["energy_mwh"] == pytest.approx(0.048)
        assert "FY2024/25" in previous["change_note"]
        assert set(previous["change_pct"].values()) == {None}
        # The base year chosen is the same year here: the same figures, the same honesty.
        assert body["base_year"]["label"] == "FY2024/25"
        assert body["base_year"]["is_this_year"] is False
        assert body["base_year"]["change_pct"]["energy_mwh"] is None

    def test_a_year_without_records_says_no_data_not_zero(self, tenant):
        body = annual(seed_fiscal_year(tenant), fiscal_year=2022).json()
        assert body["year"]["coverage"] == "no data"
        assert body["year"]["figures"]["energy_mwh"] is None
        assert {q["coverage"] for q in body["quarters"]} == {"no data"}
        assert body["quarters"][0]["figures"]["scope2_location_t"] is None

    def test_whole_years_are_compared_with_the_previous_one_and_the_base_year(self, tenant):
        organisation = tenant.organisation
        organisation.base_fiscal_year = 2023
        organisation.save()
        # Calendar fiscal years; one rollup a quarter: 100 kWh in 2023 and 2024, 150 in 2025
        # (rollup(): location kg = kWh / 10, market kg = kWh / 20).
        for year, kwh in ((2023, 100.0), (2024, 100.0), (2025, 150.0)):
            for month in (1, 4, 7, 10):
                rollup(tenant, day=date(year, month, 15), kwh=kwh)
        body = annual(tenant.client_for("admin"), fiscal_year=2025).json()
        assert body["fiscal_year"]["label"] == "FY2025"
        assert body["year"]["figures"]["scope2_location_t"] == pytest.approx(0.06)  # 4 × 15 kg
        assert body["previous_year"]["figures"]["scope2_location_t"] == pytest.approx(0.04)
        # (60 - 40) / 40 = +50 %, market-based alike (30 kg against 20 kg).
        assert body["previous_year"]["change_note"] == ""
        assert body["previous_year"]["change_pct"]["scope2_location_t"] == pytest.approx(50.0)
        assert body["previous_year"]["change_pct"]["scope2_market_t"] == pytest.approx(50.0)
        assert body["base_year"]["label"] == "FY2023"
        assert body["base_year"]["change_pct"]["energy_mwh"] == pytest.approx(50.0)
        # FY2023 holds the first records (from 15 Jan): its first month counts as covered.
        assert body["base_year"]["coverage"] == "complete"

    def test_it_is_a_draft_naming_open_quarters_until_all_four_are_locked(self, tenant):
        esg = seed_fiscal_year(tenant)
        close(tenant, 2025, 2)
        body = annual(esg).json()
        assert body["status"] == "draft"
        assert body["open_quarters"] == [
            "Q2 (Jul–Sep 2025)",
            "Q3 (Oct–Dec 2025)",
            "Q4 (Jan–Mar 2026)",
        ]
        assert [q["status"] for q in body["quarters"]] == ["locked", "draft", "draft", "draft"]
        assert body["quarters"][0]["version"] == 1
        for year, quarter in ((2025, 3), (2025, 4), (2026, 1)):
            close(tenant, year, quarter)
        final = annual(esg).json()
        assert final["status"] == "final" and final["open_quarters"] == []
        assert final["year"] == body["year"]

    def test_a_locked_quarter_shows_its_locked_figures_not_later_changes(self, tenant):
        esg = seed_fiscal_year(tenant)
        close(tenant, 2025, 2)
        # A record of that quarter arriving after the lock changes the rollups, not the lock.
        rollup(tenant, day=date(2025, 5, 20), kwh=1000.0)
        body = annual(esg).json()
        assert body["quarters"][0]["figures"]["energy_mwh"] == pytest.approx(0.048)
        assert body["quarters"][1]["figures"]["energy_mwh"] == pytest.approx(0.048)

    def test_an_engineer_sees_their_teams_live_figures_only(self, tenant):
        seed_fiscal_year(tenant)
        body = annual(tenant.client_for("engineer")).json()
        # The engineer's team (serving) ran only the cloud job.
        assert body["status"] == "team_view" and body["teams_limited"] is True
        assert body["open_quarters"] == []
        assert body["year"]["figures"]["energy_mwh"] == pytest.approx(0)
        assert body["year"]["figures"]["scope3_cat1_t"] == pytest.approx(
            cloud_t("2025-07-01", "2025-10-01")
        )

    def test_another_organisation_sees_none_of_it(self, tenant, outsider):
        seed_fiscal_year(tenant)
        body = annual(outsider.client_for("admin")).json()
        assert body["organisation"]["slug"] == "globex"
        assert body["year"]["coverage"] == "no data"
        assert body["fiscal_year"]["label"] == "FY2025"  # globex keeps calendar years

    def test_it_refuses_bad_input(self, tenant):
        client = tenant.client_for("admin")
        assert client.get("/api/v1/reports/annual/").status_code == 400
        for bad in ("1999", "2101", "abc"):
            response = client.get(f"/api/v1/reports/annual/?fiscal_year={bad}")
            assert response.status_code == 400, bad
            assert response.json()["errors"][0]["field"] == "fiscal_year"
        assert tenant.client_for("admin").logout() is None
        from rest_framework.test import APIClient

        assert APIClient().get("/api/v1/reports/annual/?fiscal_year=2025").status_code in (
            401,
            403,
        )

    def test_an_unsupported_start_month_is_refused_with_the_reason(self, tenant):
        organisation = tenant.organisation
        organisation.fiscal_year_start_month = 2  # set around the service (e.g. Django admin)
        organisation.save()
        response = annual(tenant.client_for("admin"))
        assert response.status_code == 400
        assert "February would split calendar quarters" in response.json()["message"]

    def test_the_schema_declares_every_field(self):
        schema = SchemaGenerator().get_schema(request=None, public=True)
        components = schema["components"]["schemas"]
        report = components["AnnualReport"]["properties"]
        assert set(report) == {
            "organisation",
            "fiscal_year",
            "status",
            "open_quarters",
            "teams_limited",
            "quarters",
            "year",
            "previous_year",
            "base_year",
        }
        figures = components["AnnualFigures"]["properties"]
        assert "total_market_t" in figures and "renewable_mwh" in figures
        get = schema["paths"]["/api/v1/reports/annual/"]["get"]
        assert get["parameters"][0]["name"] == "fiscal_year"


@pytest.mark.django_db
class TestAnnualDownloads:
    def test_the_xlsx_holds_the_apis_figures(self, tenant):
        esg = seed_fiscal_year(tenant)
        body = annual(esg).json()
        response = annual(esg, suffix="xlsx/")
        assert response.status_code == 200
        assert "FY2025-26" in response["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(response.content))["Annual"]
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[0]
        total = next(r for r in rows if r[0] == "FY2025/26 total")
        energy = header.index("Energy consumption (MWh)")
        assert total[energy] == pytest.approx(body["year"]["figures"]["energy_mwh"])
        market = header.index("Total with Scope 2 market-based (t CO2e)")
        assert total[market] == pytest.approx(body["year"]["figures"]["total_market_t"])
        change = next(r for r in rows if r[0] == "change from previous year (%)")
        assert change[market] is None  # a partial previous year: no change given

    def test_the_pdf_text_reads_back_the_apis_figures(self, tenant):
        esg = seed_fiscal_year(tenant)
        body = annual(esg).json()
        response = annual(esg, suffix="pdf/")
        assert response.status_code == 200 and response.content[:4] == b"%PDF"
        text = pdf_text(response.content)
        flat = " ".join(text.split())
        assert "Annual report · FY2025/26" in flat
        assert "draft: open quarters Q1 (Apr–Jun 2025), Q2" in flat
        year = body["year"]["figures"]
        for key in ("energy_mwh", "scope2_location_t", "scope2_market_t", "total_location_t"):
            assert f"{year[key]:,.3f}" in flat, key
        energy_row = next(line for line in text.splitlines() if "Energy consumption" in line)
        # Q1-Q4, the year, the previous year and its change, the base year and its change, as
        # the API gives them (3 decimals; no change from a partial year).
        expected = [f"{q['figures']['energy_mwh']:,.3f}" for q in body["quarters"]]
        expected += [f"{year['energy_mwh']:,.3f}", "0.048", "n/a", "0.048", "n/a"]
        assert energy_row.split()[-len(expected) :] == expected
        assert "None" not in flat and "scope2_" not in flat

    def test_the_pdf_prints_the_table_whole_on_its_first_page(self, tenant):
        # Labels wrapped over two lines ("Scope 2, location-based (t" / "CO2e)") made the
        # table a row too tall for the page: its last row stood alone on page 2.
        esg = seed_fiscal_year(tenant)
        pages = pdf_text(annual(esg, suffix="pdf/").content).split("\f")
        first = pages[0]
        assert "Scope 2, location-based (t CO2e)" in first
        cost_section = "Energy cost (per currency, never added across currencies)"
        assert cost_section in first


@pytest.mark.django_db
class TestFiscalYearSettings:
    def test_an_admin_sets_the_start_month_and_base_year_through_the_api(self, tenant):
        admin = tenant.client_for("admin")
        response = admin.patch(
            "/api/v1/organisation/",
            {"fiscal_year_start_month": 4, "base_fiscal_year": 2024},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["fiscal_year_start_month"] == 4
        tenant.organisation.refresh_from_db()
        assert (
            tenant.organisation.fiscal_year_start_month,
            tenant.organisation.base_fiscal_year,
        ) == (
            4,
            2024,
        )
        event = AuditEvent.objects.get(action="organisation.fiscal_year")
        assert event.details["before"] == {"fiscal_year_start_month": 1, "base_fiscal_year": None}
        assert event.details["after"] == {"fiscal_year_start_month": 4, "base_fiscal_year": 2024}
        # A partial update keeps the other setting.
        admin.patch("/api/v1/organisation/", {"base_fiscal_year": None}, format="json")
        tenant.organisation.refresh_from_db()
        assert tenant.organisation.fiscal_year_start_month == 4
        assert tenant.organisation.base_fiscal_year is None

    def test_start_months_splitting_quarters_and_bad_years_are_refused(self, tenant):
        admin = tenant.client_for("admin")
        for body, field in (
            ({"fiscal_year_start_month": 2}, "fiscal_year_start_month"),
            ({"fiscal_year_start_month": 13}, "fiscal_year_start_month"),
            ({"base_fiscal_year": 1999}, "base_fiscal_year"),
        ):
            response = admin.patch("/api/v1/organisation/", body, format="json")
            assert response.status_code == 400, body
            assert response.json()["errors"][0]["field"] == field
        tenant.organisation.refresh_from_db()
        assert tenant.organisation.fiscal_year_start_month == 1

    def test_only_managers_write_and_members_read(self, tenant):
        for role in ("esg_officer", "engineer", "auditor"):
            client = tenant.client_for(role)
            assert client.get("/api/v1/organisation/").json()["slug"] == "acme"
            denied = client.patch(
                "/api/v1/organisation/", {"fiscal_year_start_month": 4}, format="json"
            )
            assert denied.status_code == 403, role
        manage = tenant.manage_client()
        ok = manage.patch("/api/v1/organisation/", {"fiscal_year_start_month": 7}, format="json")
        assert ok.status_code == 200

    def test_the_settings_page_sets_it_and_names_it(self, tenant):
        from django.test import Client

        admin = Client()
        admin.force_login(tenant.members["admin"].user)
        response = admin.post(
            "/settings/fiscal-year/",
            {"fiscal_year_start_month": "4", "base_fiscal_year": "2024"},
            follow=True,
        )
        text = response.content.decode()
        assert "Fiscal years now start in April; base year 2024" in text
        assert "April to March; base year FY2024/25" in text
        refused = admin.post("/settings/fiscal-year/", {"fiscal_year_start_month": "2"})
        assert refused.status_code == 302
        tenant.organisation.refresh_from_db()
        assert tenant.organisation.fiscal_year_start_month == 4
        engineer = Client()
        engineer.force_login(tenant.members["engineer"].user)
        assert engineer.post(
            "/settings/fiscal-year/", {"fiscal_year_start_month": "7"}
        ).status_code in (403, 404)
