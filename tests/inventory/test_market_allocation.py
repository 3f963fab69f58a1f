"""Market-based Scope 2 in the pipeline: instruments per zone-month, residual mix, rollups."""

import random
from datetime import date

import pytest
from django.db import transaction
from django.db.models import Sum

from inventory.calculation.market import Consumption, allocate_market_based
from inventory.models import (
    ContractualInstrument,
    DailyRollup,
    GridFactor,
    Location,
    MarketAllocation,
)
from inventory.pipeline import market_allocations_rebuild, records_compute
from inventory.pipeline.market import engine_instrument
from inventory.pipeline.sql import next_month
from tests.inventory.test_pipeline import stored_batch, stored_cloud_usage, stored_workload

pytestmark = pytest.mark.django_db

FR_RESIDUAL_2025 = 0.01711  # AIB European Residual Mixes 2025, 17.11 g CO2/kWh: the latest for 2026


def consume(tenant, day: date, kwh: float, **fields):
    """Facility kWh at the Paris lab (energy that already includes its PUE: kWh as given)."""
    return stored_workload(tenant, day=day, energy_kwh=kwh, energy_includes_pue=True, **fields)


def instrument(
    tenant, kind="eac", mwh=10.0, kg=0.0, start=(2026, 1, 1), end=(2026, 12, 31), zone="FR"
):
    return ContractualInstrument.objects.create(
        organisation=tenant.organisation,
        kind=kind,
        zone=zone,
        valid_from=date(*start),
        valid_to=date(*end),
        mwh=mwh,
        kg_per_kwh=kg,
        reference=f"{kind}-{ContractualInstrument.objects.count()}",
    )


def rebuild(tenant, *months):
    with transaction.atomic():
        return market_allocations_rebuild(organisation_id=tenant.organisation.id, months=months)


def month_rows(month: date):
    return list(MarketAllocation.objects.filter(month=month).order_by("id"))


def scope2_market_kg(month: date) -> float:
    rows = DailyRollup.objects.filter(scope="scope2", day__gte=month, day__lt=next_month(month))
    return rows.aggregate(kg=Sum("market_kg"))["kg"]


def test_without_instruments_consumption_is_priced_at_the_residual_mix(tenant):
    consume(tenant, date(2026, 1, 10), 1000.0)
    records_compute()
    [row] = month_rows(date(2026, 1, 1))
    assert (row.zone, row.basis, row.kwh) == ("FR", "residual_mix", 1000.0)
    assert row.kg_per_kwh == FR_RESIDUAL_2025
    factor = GridFactor.objects.get(pk=row.grid_factor_id)
    assert (factor.kind, factor.year) == ("residual_mix", 2025)
    assert scope2_market_kg(date(2026, 1, 1)) == pytest.approx(1000.0 * FR_RESIDUAL_2025)


def test_a_zone_without_residual_mix_falls_back_to_the_grid_average_flagged(tenant):
    tokyo = Location.objects.create(
        organisation=tenant.organisation,
        code="tokyo-dc",
        name="Tokyo",
        kind="colocation",
        zone="JP",
        pue=1.4,
    )
    consume(tenant, date(2026, 2, 3), 500.0, location=tokyo)
    records_compute()
    [row] = month_rows(date(2026, 2, 1))
    assert row.basis == "grid_average"
    assert row.kg_per_kwh == GridFactor.objects.get(pk=row.grid_factor_id).kg_per_kwh
    rollup = DailyRollup.objects.get()
    assert rollup.market_kg == pytest.approx(rollup.location_kg)


def test_certificates_cover_consumption_before_the_residual_and_carry_over_months(tenant):
    instrument(tenant, mwh=10.0)  # 10,000 kWh of GOs for 2026
    consume(tenant, date(2026, 1, 5), 6000.0)
    consume(tenant, date(2026, 2, 5), 6000.0)
    records_compute()
    jan, feb = month_rows(date(2026, 1, 1)), month_rows(date(2026, 2, 1))
    assert [(r.basis, r.kwh) for r in jan] == [("instrument", 6000.0)]
    assert [(r.basis, r.kwh) for r in feb] == [("instrument", 4000.0), ("residual_mix", 2000.0)]
    assert scope2_market_kg(date(2026, 1, 1)) == 0.0
    assert scope2_market_kg(date(2026, 2, 1)) == pytest.approx(2000.0 * FR_RESIDUAL_2025)


def test_recomputing_a_month_never_claims_an_instrument_twice(tenant):
    certificate = instrument(tenant, mwh=10.0)
    consume(tenant, date(2026, 1, 5), 6000.0)
    consume(tenant, date(2026, 2, 5), 6000.0)
    records_compute()
    # More January consumption arrives: January takes more, February what is left.
    consume(tenant, date(2026, 1, 20), 3000.0)
    records_compute()
    claimed = MarketAllocation.objects.filter(instrument=certificate).aggregate(k=Sum("kwh"))
    assert claimed["k"] == 10000.0
    assert [r.kwh for r in month_rows(date(2026, 1, 1))] == [9000.0]
    assert [(r.basis, r.kwh) for r in month_rows(date(2026, 2, 1))] == [
        ("instrument", 1000.0),
        ("residual_mix", 5000.0),
    ]
    # Rebuilding February alone changes nothing: January's claim is deducted first.
    assert rebuild(tenant, date(2026, 2, 1)).months_changed == 0


def test_the_hierarchy_puts_certificates_before_supplier_rates(tenant):
    supplier = instrument(tenant, kind="supplier_specific", mwh=100.0, kg=0.03)
    certificate = instrument(tenant, kind="eac", mwh=1.0)
    consume(tenant, date(2026, 3, 2), 3000.0)
    records_compute()
    rows = month_rows(date(2026, 3, 1))
    assert [(r.instrument_id, r.kwh) for r in rows] == [
        (certificate.id, 1000.0),
        (supplier.id, 2000.0),
    ]
    assert scope2_market_kg(date(2026, 3, 1)) == pytest.approx(2000.0 * 0.03)


def test_instruments_of_another_zone_organisation_or_period_are_not_used(tenant, outsider):
    instrument(tenant, zone="DE")
    instrument(tenant, start=(2025, 1, 1), end=(2025, 12, 31))
    instrument(tenant, start=(2026, 1, 15), end=(2026, 12, 31))  # not the whole of January
    instrument(outsider)
    consume(tenant, date(2026, 1, 20), 800.0)
    records_compute()
    assert [r.basis for r in month_rows(date(2026, 1, 1))] == ["residual_mix"]


def test_cloud_usage_takes_no_instruments_and_keeps_market_equal_to_location(tenant):
    instrument(tenant, zone="US-EGRID-SRVC", mwh=1000.0)
    stored_cloud_usage(tenant, usage_kind="compute", quantity=100000.0)
    records_compute()
    assert not MarketAllocation.objects.exists()
    rollup = DailyRollup.objects.get()
    assert rollup.scope == "scope3_cat1"
    assert rollup.market_kg == rollup.location_kg


def test_locked_months_keep_their_allocation_and_their_claims(tenant, monkeypatch):
    certificate = instrument(tenant, mwh=10.0)
    consume(tenant, date(2026, 1, 5), 6000.0)
    consume(tenant, date(2026, 2, 5), 6000.0)
    records_compute()
    january = [(r.id, r.kwh) for r in month_rows(date(2026, 1, 1))]
    monkeypatch.setattr(
        "inventory.pipeline.market.locked_periods",
        lambda organisation_id: [(date(2026, 1, 1), date(2026, 2, 1))],
    )
    certificate.mwh = 8.0
    certificate.save()
    rebuild(tenant, date(2026, 1, 1), date(2026, 2, 1))
    assert [(r.id, r.kwh) for r in month_rows(date(2026, 1, 1))] == january
    assert [(r.basis, r.kwh) for r in month_rows(date(2026, 2, 1))] == [
        ("instrument", 2000.0),
        ("residual_mix", 4000.0),
    ]


def test_pipeline_and_pure_engine_agree_on_random_instruments_to_the_gram(tenant):
    rng = random.Random(5)
    kinds = ["eac", "ppa", "green_tariff", "supplier_specific"]
    for _ in range(6):
        start = rng.randint(1, 6)
        end = rng.randint(start, 12)
        instrument(
            tenant,
            kind=rng.choice(kinds),
            mwh=rng.uniform(0.5, 8.0),
            kg=rng.choice([0.0, rng.uniform(0.0, 0.2)]),
            start=(2026, start, 1),
            end=(2026, end, 28 if end == 2 else 30 if end in (4, 6, 9, 11) else 31),
        )
    batch = stored_batch(tenant)
    for _ in range(120):
        day = date(2026, rng.randint(1, 9), rng.randint(1, 28))
        consume(tenant, day, rng.uniform(10.0, 400.0), batch=batch)
    # Compute in two goes (two months first), as batches arriving over time would.
    records_compute()
    for _ in range(30):
        consume(tenant, date(2026, rng.randint(1, 9), rng.randint(1, 28)), rng.uniform(10, 400))
    records_compute()

    months = sorted({r.day.replace(day=1) for r in DailyRollup.objects.all()})
    lines = []
    for month in months:
        kwh = DailyRollup.objects.filter(day__gte=month, day__lt=next_month(month)).aggregate(
            k=Sum("facility_kwh")
        )["k"]
        end = date.fromordinal(next_month(month).toordinal() - 1)
        lines.append(
            Consumption(
                key=f"FR:{month:%Y-%m}", zone="FR", period_start=month, period_end=end, kwh=kwh
            )
        )
    expected = allocate_market_based(
        consumption=lines,
        instruments=[engine_instrument(i) for i in ContractualInstrument.objects.all()],
        residual_mix={"FR": FR_RESIDUAL_2025},
        grid_average={},
    )
    for month, line in zip(months, expected, strict=True):
        rows = month_rows(month)
        stored = {r.instrument_id: r.kwh for r in rows if r.basis == "instrument"}
        assert stored.keys() == {a.instrument_id for a in line.covered}
        for allocation in line.covered:
            assert abs(stored[allocation.instrument_id] - allocation.kwh) < 1e-6
        assert abs(sum(r.kg for r in rows) - line.kg) < 0.0005
        assert abs(scope2_market_kg(month) - line.kg) < 0.0005
    for i in ContractualInstrument.objects.all():
        claimed = MarketAllocation.objects.filter(instrument=i).aggregate(k=Sum("kwh"))["k"] or 0
        assert claimed <= i.mwh * 1000.0 + 1e-6
