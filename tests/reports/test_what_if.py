"""What if a team's workloads had run elsewhere: re-priced by hand, nothing stored changes."""

from datetime import date

import pytest

from inventory.models import (
    ElectricityTariff,
    FacilityWue,
    FactorOverride,
    Location,
    WorkloadRecord,
)
from tests.conftest import workload
from tests.inventory.test_pipeline import posted_and_computed

QUERY = "start=2026-01-01&end=2026-04-01"


def override(organisation, zone, kind, kg_per_kwh):
    FactorOverride.objects.create(
        organisation=organisation, zone=zone, kind=kind, valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31), kg_per_kwh=kg_per_kwh, source="test figures",
    )  # fmt: skip


@pytest.fixture
def ran_in_paris(tenant):
    """Research ran 100 kWh (measured) in Paris: PUE 1.2, FR grid 0.05, residual 0.07 kg/kWh.
    Berlin, the other facility: PUE 1.5, DE grid 0.4, residual 0.6 kg/kWh. WUE 1.8 and 0.9 L
    per IT kWh, tariffs 0.20 and 0.25 EUR/kWh."""
    organisation = tenant.organisation
    Location.objects.create(
        organisation=organisation, code="lab-berlin", name="Berlin lab", kind="colocation",
        zone="DE", pue=1.5, pue_source="provider report 2025",
    )  # fmt: skip
    override(organisation, "FR", "grid_average", 0.05)
    override(organisation, "FR", "residual_mix", 0.07)
    override(organisation, "DE", "grid_average", 0.4)
    override(organisation, "DE", "residual_mix", 0.6)
    year = {"valid_from": date(2026, 1, 1), "valid_to": date(2026, 12, 31)}
    for code, wue, price in (("lab-paris", 1.8, 0.20), ("lab-berlin", 0.9, 0.25)):
        site = organisation.facilities.get(code=code)
        FacilityWue.objects.create(
            organisation=organisation, location=site, wue_l_per_kwh=wue, source="meter", **year
        )
        ElectricityTariff.objects.create(
            organisation=organisation, location=site, price_per_kwh=price, currency="EUR",
            source="contract", **year,
        )  # fmt: skip
    records = [
        workload(external_id="a", energy_kwh=60.0),
        workload(external_id="b", energy_kwh=40.0, started_at="2026-02-01T00:00:00Z",
                 ended_at="2026-02-01T05:00:00Z"),
        workload(external_id="s", team="serving", energy_kwh=999.0),
    ]  # fmt: skip
    posted_and_computed(tenant, records)


@pytest.mark.django_db
class TestWhatIf:
    def test_the_same_it_energy_at_each_facility_ranked(self, tenant, ran_in_paris):
        before = list(WorkloadRecord.objects.values_list("location_kg", flat=True).order_by("id"))
        body = tenant.client_for("esg_officer").get(f"/api/v1/what-if/?team=research&{QUERY}")
        body = body.json()
        # Paris as it ran: 100 kWh × 1.2 = 120 kWh; × 0.05 = 6 kg; × 0.07 = 8.4 kg.
        assert body["it_kwh"] == pytest.approx(100.0)
        assert body["current_location_kg"] == pytest.approx(6.0)
        assert body["current_market_kg"] == pytest.approx(8.4)
        paris, berlin = body["candidates"]
        assert (paris["code"], paris["is_current"]) == ("lab-paris", True)
        assert paris["location_kg"] == pytest.approx(6.0)
        assert paris["market_kg"] == pytest.approx(8.4)
        assert paris["change_location_kg"] == pytest.approx(0.0)
        # Berlin: 100 × 1.5 = 150 kWh; × 0.4 = 60 kg (+54); × 0.6 = 90 kg (+81.6).
        assert berlin["code"] == "lab-berlin"
        assert (berlin["pue"], berlin["pue_source"]) == (1.5, "provider report 2025")
        assert berlin["facility_kwh"] == pytest.approx(150.0)
        assert berlin["location_kg"] == pytest.approx(60.0)
        assert berlin["change_location_kg"] == pytest.approx(54.0)
        assert berlin["change_market_kg"] == pytest.approx(81.6)
        # Water 100 × 1.8 = 180 L in Paris (as stored), 100 × 0.9 = 90 L in Berlin; cost
        # 120 kWh × 0.20 = 24 EUR in Paris, 150 kWh × 0.25 = 37.5 EUR in Berlin.
        assert body["current_water_l"] == pytest.approx(180.0)
        assert (paris["water_l"], berlin["water_l"]) == (pytest.approx(180.0), pytest.approx(90.0))
        assert (paris["cost"], paris["currency"]) == (pytest.approx(24.0), "EUR")
        assert (berlin["cost"], berlin["currency"]) == (pytest.approx(37.5), "EUR")
        after = list(WorkloadRecord.objects.values_list("location_kg", flat=True).order_by("id"))
        assert after == before  # nothing stored changes

    def test_a_team_or_a_model_must_be_given(self, tenant, ran_in_paris):
        response = tenant.client_for("admin").get(f"/api/v1/what-if/?{QUERY}")
        assert response.status_code == 400

    def test_other_teams_and_organisations_are_not_found(self, tenant, outsider, ran_in_paris):
        engineer = tenant.client_for("engineer")  # serving only
        assert engineer.get(f"/api/v1/what-if/?team=research&{QUERY}").status_code == 404
        # Another organisation's "research" is its own team: its answer has none of acme's.
        outside = outsider.client_for("admin").get(f"/api/v1/what-if/?team=research&{QUERY}")
        assert outside.json()["it_kwh"] == 0.0
        assert "lab-berlin" not in outside.content.decode()

    def test_the_page_ranks_the_candidates(self, tenant, ran_in_paris):
        html = tenant.client_for("admin").get(f"/what-if/?team=research&{QUERY}").content.decode()
        assert html.index('data-location="lab-paris"') < html.index('data-location="lab-berlin"')
        assert 'data-figure="change-location-t">+0.054</td>' in html
