"""The overview's on-site water card: m³ from the rollups, partial when some records have no
WUE, "not available" (never 0) when none has."""

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
