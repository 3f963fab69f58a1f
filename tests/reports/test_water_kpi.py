"""The overview's water cards, on-site and off-site side by side: m³ from the rollups, partial
when some records have no figure, "not available" (never 0) when none has."""

from datetime import date

import pytest

from inventory.models import FacilityWue
from inventory.pipeline import records_compute
from tests.conftest import workload

Q1 = "period=2026-q1"


@pytest.mark.django_db
class TestWaterCard:
    def test_none_has_water_so_it_is_not_available(self, tenant):
        tenant.token_client().post("/api/v1/workloads/", [workload(energy_kwh=10.0)], format="json")
        records_compute()
        html = tenant.client_for("admin").get(f"/?{Q1}").content.decode()
        assert 'data-kpi="water_m3">—</span>' in html
        assert "not available: no WUE or measured water" in html

    def test_water_from_the_facility_wue_and_partial_with_a_record_without(self, tenant):
        FacilityWue.objects.create(
            organisation=tenant.organisation,
            location=tenant.organisation.facilities.get(code="lab-paris"),
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            wue_l_per_kwh=1.8,
            source="meter",
        )
        records = [
            workload(external_id="paris", energy_kwh=10.0),  # 10 kWh IT × 1.8 = 18 L
            # Google publishes no regional WUE: no water for this one.
            workload(external_id="gcp", location="gcp:europe-west4", energy_kwh=5.0),
        ]
        tenant.token_client().post("/api/v1/workloads/", records, format="json")
        records_compute()
        html = tenant.client_for("admin").get(f"/?{Q1}").content.decode()
        assert 'data-kpi="water_m3">0.018</span>' in html
        assert "partial: 1 of 2 records" in html


@pytest.mark.django_db
class TestOffsiteWaterCard:
    def test_off_site_is_shown_beside_on_site_not_in_it(self, tenant):
        tenant.token_client().post("/api/v1/workloads/", [workload(energy_kwh=10.0)], format="json")
        records_compute()
        html = tenant.client_for("admin").get(f"/?{Q1}").content.decode()
        # lab-paris has no WUE: on-site not available. Off-site: 10 kWh IT × PUE 1.2 = 12 kWh
        # facility × 3.6737 L/kWh (EcoLogits' FRA mix) = 44.0844 L = 0.044 m³.
        assert 'data-kpi="water_m3">—</span>' in html
        assert 'data-kpi="water_offsite_m3">0.044</span>' in html
        assert "beside on-site, never in it" in html

    def test_a_region_with_only_the_world_average_makes_it_partial(self, tenant):
        records = [
            workload(external_id="paris", energy_kwh=10.0),
            # Singapore: EcoLogits has the world average only, so no off-site figure.
            workload(external_id="sg", location="gcp:asia-southeast1", energy_kwh=5.0),
        ]
        tenant.token_client().post("/api/v1/workloads/", records, format="json")
        records_compute()
        html = tenant.client_for("admin").get(f"/?{Q1}").content.decode()
        assert 'data-kpi="water_offsite_m3">0.044</span>' in html  # Paris's 44.0844 L alone
        assert "partial: 1 of 2 records" in html

    def test_no_record_with_a_country_factor_is_not_available(self, tenant):
        sg = workload(location="gcp:asia-southeast1", energy_kwh=5.0)
        tenant.token_client().post("/api/v1/workloads/", [sg], format="json")
        records_compute()
        html = tenant.client_for("admin").get(f"/?{Q1}").content.decode()
        assert 'data-kpi="water_offsite_m3">—</span>' in html
        assert "no country factor of its own for the grid zone" in html
