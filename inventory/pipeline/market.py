"""Market-based method per organisation × zone × month, with inventory.calculation.market.

Consumption is the Scope 2 facility kWh of the zone and month (from the rollups; cloud is
Scope 3 and never takes instruments: docs/methodology.md §5). Each (zone, month) line is
priced by allocate_market_based; its lines become MarketAllocation rows (one per instrument
used, one for the residual at the residual mix or, flagged, the grid average), and each
Scope 2 rollup of the zone-month gets ``facility_kwh / month kWh * month kg``.

Instruments across months: an instrument's MWh are consumed month by month in calendar
order, across every month it covers, so recomputing one month must not change what another
got unfairly. We walk a zone's months in order carrying each instrument's kWh left: months
before the first affected one, and months locked by a report, keep their stored rows and only
deduct what they claimed; affected months are priced from their consumption in the rollups;
when the zone has instruments, every later month is re-priced too (the balance it starts
from may have moved), from the consumption it was priced on (its rows' kWh), and rewritten
only if its allocation changes. The engine is called per
month with the carried balance, which is the same greedy order as one call over all months
((period start, key) lines, (rank, valid_from, id) instruments) and lets each month use its
own residual-mix and grid-average factors. A balance never goes below zero: no MWh is
claimed twice, whatever was stored or locked before.

Factors for a month are taken at its first day: the organisation's override of the kind,
else the active dataset's row (the organisation's basis first, latest period not after the
day, else the earliest after it; then any basis), as for location-based records.
"""

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organisation
from inventory.calculation.errors import CalculationError
from inventory.calculation.market import Consumption, Instrument, allocate_market_based
from inventory.calculation.methodology import METHODOLOGY_VERSION
from inventory.factors.library import active_dataset
from inventory.models import (
    ContractualInstrument,
    FactorKind,
    FactorOverride,
    GridFactor,
    MarketAllocation,
    MarketBasis,
)
from inventory.pipeline.locks import Period, locked_periods
from inventory.pipeline.rollups import monthly_rollups_refresh
from inventory.pipeline.sql import as_date, in_list, month_start, next_month

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MarketRebuild:
    months_recomputed: int
    months_changed: int


@dataclass(frozen=True)
class _Factor:
    kg_per_kwh: float
    grid_factor_id: int | None
    factor_override_id: int | None


def _library_pick(rows: list[GridFactor], day: date, basis: str) -> GridFactor | None:
    """inventory.pipeline.sql.grid_factor_pick, in Python, for a few rows of one zone."""
    for wanted in (basis, None):
        candidates = [r for r in rows if wanted is None or r.basis == wanted]
        before = sorted(
            (r for r in candidates if r.period_start <= day),
            key=lambda r: (-r.period_start.toordinal(), r.basis),
        )
        if before:
            return before[0]
        after = sorted(
            (r for r in candidates if r.period_start > day),
            key=lambda r: (r.period_start, r.basis),
        )
        if after:
            return after[0]
    return None


class ZoneFactors:
    """Residual-mix and grid-average factors of an organisation's zones, by day: the picks
    of the market allocation, and of a what-if in another place (reports.what_if)."""

    def __init__(self, organisation: Organisation, zones: set[str]) -> None:
        self.basis = organisation.factor_basis
        dataset = active_dataset()
        self.library: dict[tuple[str, str], list[GridFactor]] = defaultdict(list)
        for row in GridFactor.objects.filter(dataset=dataset, zone__in=zones, month=None):
            self.library[(row.zone, row.kind)].append(row)
        self.overrides: dict[tuple[str, str], list[FactorOverride]] = defaultdict(list)
        for row in FactorOverride.objects.filter(organisation=organisation, zone__in=zones):
            self.overrides[(row.zone, row.kind)].append(row)

    def pick(self, zone: str, kind: str, day: date) -> _Factor | None:
        valid = [o for o in self.overrides[(zone, kind)] if o.valid_from <= day <= o.valid_to]
        if valid:
            override = max(valid, key=lambda o: (o.valid_from, o.id))
            return _Factor(override.kg_per_kwh, None, override.id)
        row = _library_pick(self.library[(zone, kind)], day, self.basis)
        # A year the publisher marks as having none (full disclosure) has none, even if an
        # older year had one: the market falls back to the grid average, flagged.
        if row is None or row.kg_per_kwh is None:
            return None
        return _Factor(row.kg_per_kwh, row.id, None)


def _consumption(
    organisation_id: int, ranges: list[tuple[date, date]], zones: list[str] | None
) -> dict[str, dict[date, float]]:
    """Scope 2 facility kWh per zone and month, over day ranges [start, end)."""
    if not ranges:
        return {}
    params: dict = {"organisation": organisation_id}
    clauses = []
    for n, (start, end) in enumerate(ranges):
        params[f"s{n}"], params[f"e{n}"] = start, end
        clauses.append(f"(r.day >= %(s{n})s AND r.day < %(e{n})s)")
    zone_filter = ""
    if zones is not None:
        marks, zone_params = in_list("zone", zones)
        params.update(zone_params)
        zone_filter = f"AND l.zone IN ({marks})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT l.zone, r.day, SUM(r.facility_kwh)
            FROM inventory_dailyrollup r JOIN inventory_location l ON l.id = r.location_id
            WHERE r.organisation_id = %(organisation)s AND r.scope = 'scope2'
              AND ({" OR ".join(clauses)}) {zone_filter}
            GROUP BY l.zone, r.day""",
            params,
        )
        by_month: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
        for zone, day, kwh in cursor.fetchall():
            by_month[zone][month_start(as_date(day))].append(kwh)
    # fsum: the total does not depend on the order the database returned the days in.
    return {
        zone: {month: math.fsum(values) for month, values in months.items()}
        for zone, months in by_month.items()
    }


def _month_kg(rows: list[MarketAllocation]) -> float:
    """A month's kg from its stored rows, as the engine sums a line: instruments left to
    right (in allocation order), then the residual."""
    covered = 0.0
    for row in rows:
        if row.basis == MarketBasis.INSTRUMENT:
            covered += row.kg
    residual = [row.kg for row in rows if row.basis != MarketBasis.INSTRUMENT]
    return covered + residual[0] if residual else covered


def engine_instrument(instrument: ContractualInstrument, *, mwh: float | None = None) -> Instrument:
    """The calculation engine's view of an instrument (with `mwh` left, if given)."""
    return Instrument(
        id=instrument.id,
        kind=instrument.kind,
        zone=instrument.zone,
        valid_from=instrument.valid_from,
        valid_to=instrument.valid_to,
        mwh=instrument.mwh if mwh is None else mwh,
        kg_per_kwh=instrument.kg_per_kwh,
        reference=instrument.reference,
    )


def _row_key(row: MarketAllocation) -> tuple:
    return (
        row.basis,
        row.instrument_id,
        row.grid_factor_id,
        row.factor_override_id,
        row.kwh,
        row.kg_per_kwh,
        row.kg,
        row.methodology_version,
    )


def _rollups_market_kg(
    organisation_id: int, shares: list[tuple[str, date, float, float | None]]
) -> None:
    """Share each zone-month's market kg out to its Scope 2 rollups, pro rata to facility kWh:
    ``facility_kwh / month kWh * month kg`` (0 for a month of 0 kWh; NULL when unpriced).

    One UPDATE for many (zone, month, kWh, kg), joined as a derived table.
    """
    with connection.cursor() as cursor:
        for start in range(0, len(shares), 200):
            chunk = shares[start : start + 200]
            params: dict = {"organisation": organisation_id}
            selects = []
            for n, (zone, month, kwh, kg) in enumerate(chunk):
                params.update(
                    {f"z{n}": zone, f"s{n}": month, f"e{n}": next_month(month), f"k{n}": kwh}
                )
                params[f"g{n}"] = kg
                selects.append(
                    f"SELECT %(z{n})s AS zone, %(s{n})s AS start, %(e{n})s AS stop, "
                    f"CAST(%(k{n})s AS DOUBLE PRECISION) AS kwh, "
                    f"CAST(%(g{n})s AS DOUBLE PRECISION) AS kg"
                )
            cursor.execute(
                f"""UPDATE inventory_dailyrollup AS r SET market_kg = CASE
                    WHEN v.kg IS NULL THEN NULL
                    WHEN v.kwh = 0.0 THEN 0.0
                    ELSE r.facility_kwh / v.kwh * v.kg END
                FROM ({" UNION ALL ".join(selects)}) AS v, inventory_location AS l
                WHERE r.organisation_id = %(organisation)s AND r.scope = 'scope2'
                  AND l.id = r.location_id AND l.zone = v.zone
                  AND r.day >= v.start AND r.day < v.stop""",
                params,
            )
    monthly_rollups_refresh(
        organisation_id=organisation_id, months={month for _, month, _, _ in shares}
    )


def _same_rows(old: list[MarketAllocation], new: list[MarketAllocation], *, exact: bool) -> bool:
    if exact:
        return [_row_key(r) for r in old] == [_row_key(r) for r in new]
    if len(old) != len(new):
        return False
    for a, b in zip(old, new, strict=True):
        if _row_key(a)[:4] != _row_key(b)[:4] or a.methodology_version != b.methodology_version:
            return False
        for x, y in ((a.kwh, b.kwh), (a.kg_per_kwh, b.kg_per_kwh), (a.kg, b.kg)):
            if not math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9):
                return False
    return True


def _locked_test(organisation_id: int, restating: Period | None):
    periods = [period for period in locked_periods(organisation_id) if period != restating]

    def is_locked(month: date) -> bool:
        end = next_month(month)
        return any(start < end and month < stop for start, stop in periods)

    return is_locked


def market_allocations_rebuild(
    *,
    organisation_id: int,
    months: Iterable[date],
    zones: Iterable[str] | None = None,
    restating: Period | None = None,
) -> MarketRebuild:
    """Recompute the market-based allocation of these months (all zones, or these zones).

    Locked periods are left alone, except the one a restatement is recomputing (`restating`).
    The caller holds the organisation lock (inventory.pipeline.sql.organisation_lock) and
    has rebuilt the rollups the months read.
    """
    months = sorted({month_start(m) for m in months})
    if not months:
        return MarketRebuild(0, 0)
    organisation = Organisation.objects.get(pk=organisation_id)
    first = months[0]
    is_locked = _locked_test(organisation_id, restating)
    only_zones = None if zones is None else set(zones)

    instruments: dict[str, list[ContractualInstrument]] = defaultdict(list)
    for instrument in ContractualInstrument.objects.filter(organisation=organisation):
        instruments[instrument.zone].append(instrument)
    carried_zones = sorted(z for z in instruments if only_zones is None or z in only_zones)

    month_ranges = [(m, next_month(m)) for m in months]
    consumption = _consumption(
        organisation_id, month_ranges, None if only_zones is None else sorted(only_zones)
    )
    stored: dict[str, dict[date, list[MarketAllocation]]] = defaultdict(lambda: defaultdict(list))
    stored_rows = MarketAllocation.objects.filter(
        Q(month__in=months) | Q(zone__in=list(instruments)), organisation=organisation
    ).order_by("zone", "month", "id")
    for row in stored_rows:
        stored[row.zone][row.month].append(row)

    zones_here = set(consumption) | set(stored) | set(carried_zones)
    if only_zones is not None:
        zones_here &= only_zones
    factors = ZoneFactors(organisation, zones_here)
    now = timezone.now()
    recomputed = changed = 0
    shares: list[tuple[str, date, float, float | None]] = []
    affected = set(months)
    for zone in sorted(zones_here):
        zone_instruments = instruments.get(zone, [])
        # With instruments, later months take what the affected ones leave: they are
        # re-priced from the consumption they were priced on (the sum of their rows' kWh),
        # and rewritten only if that changes their allocation.
        later = {m for m in stored[zone] if m > first} - affected if zone_instruments else set()
        left = {i.id: i.mwh * 1000.0 for i in zone_instruments}
        for month in sorted(affected | set(stored[zone])):
            rows = stored[zone].get(month, [])
            kwh = consumption.get(zone, {}).get(month)
            if is_locked(month) or (month not in affected and month not in later):
                for row in rows:
                    if row.instrument_id in left:
                        left[row.instrument_id] = max(0.0, left[row.instrument_id] - row.kwh)
                if month in affected and rows and kwh is not None:
                    shares.append((zone, month, kwh, _month_kg(rows)))
                continue
            if month in later:
                kwh = math.fsum(row.kwh for row in rows)
            recomputed += 1
            new_rows, kg = _allocate_month(
                organisation, zone, month, kwh, zone_instruments, left, factors, now
            )
            same = _same_rows(rows, new_rows, exact=month in affected)
            if not same:
                changed += 1
                MarketAllocation.objects.filter(id__in=[r.id for r in rows]).delete()
                MarketAllocation.objects.bulk_create(new_rows)
            if kwh is not None and (month in affected or not same):
                shares.append((zone, month, kwh, kg))
    _rollups_market_kg(organisation_id, shares)
    return MarketRebuild(recomputed, changed)


def _allocate_month(
    organisation: Organisation,
    zone: str,
    month: date,
    kwh: float | None,
    zone_instruments: list[ContractualInstrument],
    left: dict[int, float],
    factors: ZoneFactors,
    now,
) -> tuple[list[MarketAllocation], float | None]:
    """Price one zone-month with the engine; deduct what it claimed from `left`."""
    if kwh is None:
        return [], None
    residual = factors.pick(zone, FactorKind.RESIDUAL_MIX, month)
    grid = factors.pick(zone, FactorKind.GRID_AVERAGE, month)
    try:
        [line] = allocate_market_based(
            consumption=[
                Consumption(
                    key=f"{zone}:{month:%Y-%m}",
                    zone=zone,
                    period_start=month,
                    period_end=next_month(month) - timedelta(days=1),
                    kwh=kwh,
                )
            ],
            instruments=[engine_instrument(i, mwh=left[i.id] / 1000.0) for i in zone_instruments],
            residual_mix={zone: residual.kg_per_kwh} if residual else {},
            grid_average={zone: grid.kg_per_kwh} if grid else {},
        )
    except CalculationError as error:
        logger.warning(
            "market allocation failed",
            extra={"organisation_id": organisation.id, "zone": zone, "error": str(error)},
        )
        return [], None
    common = {
        "organisation": organisation,
        "zone": zone,
        "month": month,
        "methodology_version": METHODOLOGY_VERSION,
        "computed_at": now,
    }
    rows = []
    for allocation in line.covered:
        left[allocation.instrument_id] = max(0.0, left[allocation.instrument_id] - allocation.kwh)
        rows.append(
            MarketAllocation(
                basis=MarketBasis.INSTRUMENT,
                instrument_id=allocation.instrument_id,
                kwh=allocation.kwh,
                kg_per_kwh=allocation.kg_per_kwh,
                kg=allocation.kg,
                **common,
            )
        )
    if line.residual_kwh > 0.0 or not line.covered:
        used = residual if line.residual_basis == "residual_mix" else grid
        rows.append(
            MarketAllocation(
                basis=line.residual_basis,
                grid_factor_id=used.grid_factor_id,
                factor_override_id=used.factor_override_id,
                kwh=line.residual_kwh,
                kg_per_kwh=line.residual_factor_kg_per_kwh,
                kg=line.residual_kwh * line.residual_factor_kg_per_kwh,
                **common,
            )
        )
    return rows, line.kg
