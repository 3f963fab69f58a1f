"""Monthly rollups: the daily rollups of a month summed, kept by every writer of daily rows."""

from datetime import date
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, transaction

from inventory.models import DailyRollup, MonthlyRollup, WorkloadRecord
from inventory.pipeline import daily_rollups_rebuild, records_compute, rollup_mismatches
from inventory.pipeline.rollups import monthly_rollups_refresh
from tests.inventory.test_market_allocation import FR_RESIDUAL_2025, consume, instrument, rebuild
from tests.inventory.test_pipeline import fr_override
from tests.reports.scope2_data import rollup

pytestmark = pytest.mark.django_db


def months_of(organisation) -> list[tuple]:
    return sorted(
        (row.day, row.record_count, row.facility_kwh, row.location_kg, row.market_kg)
        for row in MonthlyRollup.objects.filter(organisation=organisation)
    )


def two_january_days_and_a_february_one(tenant) -> None:
    fr_override(tenant.organisation)  # 0.05 kg/kWh location-based
    consume(tenant, date(2026, 1, 5), 1.5)
    consume(tenant, date(2026, 1, 20), 2.5)
    consume(tenant, date(2026, 2, 3), 1.0)
    records_compute()


def test_a_computation_sums_its_days_into_their_month(tenant, outsider):
    two_january_days_and_a_february_one(tenant)
    # January: 1.5 + 2.5 = 4.0 kWh of 2 records; 4.0 × 0.05 = 0.2 kg location-based, and
    # 4.0 × 0.01711 = 0.06844 kg at the residual mix. February: 1.0 kWh, 0.05 and 0.01711 kg.
    assert months_of(tenant.organisation) == [
        (date(2026, 1, 1), 2, 4.0, pytest.approx(0.2), pytest.approx(0.06844)),
        (date(2026, 2, 1), 1, 1.0, pytest.approx(0.05), pytest.approx(FR_RESIDUAL_2025)),
    ]
    assert months_of(outsider.organisation) == []
    assert rollup_mismatches() == []


def test_a_market_allocation_rewrites_the_market_kg_of_its_months(tenant):
    two_january_days_and_a_february_one(tenant)
    instrument(tenant, mwh=0.002)  # 2 kWh of zero-emission certificates for 2026
    rebuild(tenant, date(2026, 1, 1))
    # 2 of January's 4 kWh covered at 0 kg, the other 2 at the residual mix: 2 × 0.01711.
    january = MonthlyRollup.objects.get(day=date(2026, 1, 1))
    assert january.market_kg == pytest.approx(0.03422)
    assert rollup_mismatches() == []


def test_a_rebuild_of_some_days_refreshes_their_months_and_empties_a_month_left_empty(tenant):
    two_january_days_and_a_february_one(tenant)
    WorkloadRecord.objects.filter(activity_date__in=[date(2026, 1, 20), date(2026, 2, 3)]).delete()
    with transaction.atomic():
        daily_rollups_rebuild(
            organisation_id=tenant.organisation.id, days=[date(2026, 1, 20), date(2026, 2, 3)]
        )
    # January keeps the 1.5 kWh of the 5th; February has no day left, so no row.
    [january] = MonthlyRollup.objects.filter(organisation=tenant.organisation)
    assert (january.day, january.record_count, january.facility_kwh) == (date(2026, 1, 1), 1, 1.5)


def test_a_months_rows_keep_apart_days_readers_sum_apart(tenant):
    rollup(tenant, date(2026, 1, 5), 1.5)
    rollup(tenant, date(2026, 1, 20), 2.5)
    rollup(tenant, date(2026, 1, 21), 4.0)
    DailyRollup.objects.filter(day=date(2026, 1, 20)).update(market_kg=None)  # not allocated
    DailyRollup.objects.filter(day=date(2026, 1, 21)).update(energy_cost=0.8)  # has a cost
    rollup(tenant, date(2026, 1, 22), 3.0, water_onsite_l=6.0, water_record_count=1)
    rollup(tenant, date(2026, 1, 23), 5.0, water_onsite_l=9.0, water_record_count=0)
    monthly_rollups_refresh(organisation_id=tenant.organisation.id, months=[date(2026, 1, 9)])
    # Market kg = kWh / 20. Apart: the unallocated 2.5 kWh, the costed 4.0 (0.2 kg), the
    # 3.0 kWh whose water covers its record (0.15 kg; the WUE reads only such rows). The 1.5
    # and 5.0 kWh agree on every condition: one row of 6.5 kWh, 0.075 + 0.25 = 0.325 kg.
    assert sorted(
        (row.facility_kwh, row.market_kg, row.energy_cost, row.water_onsite_l)
        for row in MonthlyRollup.objects.all()
    ) == [
        (2.5, None, None, None),
        (3.0, 0.15, None, 6.0),
        (4.0, 0.2, 0.8, None),
        (6.5, pytest.approx(0.325), None, 9.0),
    ]


def test_the_migration_fills_the_months_of_the_existing_daily_rows(tenant, outsider):
    rollup(tenant, date(2026, 1, 5), 1.5)
    rollup(tenant, date(2026, 1, 20), 2.5)
    rollup(tenant, date(2026, 2, 3), 1.0)
    rollup(outsider, date(2026, 1, 5), 7.0)
    DailyRollup.objects.filter(day=date(2026, 1, 20)).update(market_kg=None)  # not allocated
    MonthlyRollup.objects.all().delete()

    # What the fill asks of the migration's schema editor: its connection, and a statement run
    # (the ANALYZE on Postgres); a real one cannot open inside SQLite's test transaction.
    editor = SimpleNamespace(connection=connection, execute=connection.cursor().execute)
    import_module("inventory.migrations.0024_monthly_rollup").monthly_rollups_fill(apps, editor)

    # January: the allocated 1.5 kWh (kg 0.15, market 0.075) apart from the 2.5 not allocated.
    assert months_of(tenant.organisation) == [
        (date(2026, 1, 1), 1, 1.5, pytest.approx(0.15), pytest.approx(0.075)),
        (date(2026, 1, 1), 1, 2.5, pytest.approx(0.25), None),
        (date(2026, 2, 1), 1, 1.0, pytest.approx(0.1), pytest.approx(0.05)),
    ]
    assert months_of(outsider.organisation) == [
        (date(2026, 1, 1), 1, 7.0, pytest.approx(0.7), pytest.approx(0.35))
    ]
    filled = months_of(tenant.organisation)
    monthly_rollups_refresh(
        organisation_id=tenant.organisation.id, months=[date(2026, 1, 1), date(2026, 2, 1)]
    )
    assert months_of(tenant.organisation) == filled
