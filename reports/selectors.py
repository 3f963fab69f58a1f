"""Footprint reads. Every query starts from the rollups of the caller's organisation."""

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date

from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from accounts.models import Team
from accounts.principal import Access, Principal
from greenai_portal import periods
from greenai_portal.db import consistent_read
from inventory.calculation.methodology import METHODOLOGY_VERSION
from inventory.figures import (
    CURRENCY_COLUMN,
    FACILITY_ENERGY,
    FIGURES,
    LOCATION_EMISSIONS,
    MARKET_EMISSIONS,
    ROLLUP_SUMS,
    Summing,
    Sums,
    intensities,
)
from inventory.llm.selectors import (
    LLM_GROUPINGS,
    LlmApiFootprint,
    LlmApiGroup,
    llm_api_groups,
    llm_api_total,
)
from inventory.models import (
    AiModel,
    CloudCoefficient,
    CloudUsageRecord,
    CloudWue,
    ComputeStatus,
    ContractualInstrument,
    DailyRollup,
    ElectricityTariff,
    EmbodiedFactor,
    EmissionScope,
    EnergyTier,
    FacilityWue,
    FactorDataset,
    FactorOverride,
    GridFactor,
    Hardware,
    IngestBatch,
    InstrumentKind,
    Location,
    MarketAllocation,
    MarketBasis,
    Phase,
    WorkloadRecord,
)
from reports.cost_sci_selectors import REPORT_COST_SUMS, report_costs
from reports.models import ReportVersion

GROUPINGS = {
    "team": ("team_id", "team__name"),
    "model": ("ai_model_id", "ai_model__name"),
    "month": ("month", "month"),
    "location": ("location_id", "location__code"),
    "scope": ("scope", "scope"),
}


@dataclass(frozen=True)
class ReportedScope:
    """A scope whose figures are shown on their own: figures of two scopes are never added.

    `key` is the EmissionScope value, also the key of the scope's figures in documents, APIs
    and CSV columns. A scope without `market_based` has no market-based figure (the Scope 2
    Guidance's method applies to purchased electricity; a cloud provider states none here).
    """

    key: str
    label: str
    market_based: bool


REPORTED_SCOPES = (
    # Plain str keys (`.value`): they key JSON documents.
    ReportedScope(
        EmissionScope.SCOPE2.value,
        "Scope 2",
        market_based=EmissionScope.SCOPE2 in MARKET_EMISSIONS.scopes,
    ),
    ReportedScope(
        EmissionScope.SCOPE3_CAT1.value,
        "Public cloud (Scope 3 cat. 1)",
        market_based=EmissionScope.SCOPE3_CAT1 in MARKET_EMISSIONS.scopes,
    ),
)
NOT_APPLICABLE = "not applicable"
MARKET_COMPLETE, MARKET_PARTIAL = "complete", "partial: not yet allocated"


# A scope's figures in stored units (kWh, kg, counts), by stored column of every figure
# `in_totals` (inventory.figures), plus `market_status`: a figure the scope does not report
# (market-based for public cloud) or not yet allocated is None, never 0.
ScopeFootprint = dict


@dataclass(frozen=True)
class FootprintGroup:
    key: str
    label: str
    scope2: ScopeFootprint
    scope3_cat1: ScopeFootprint
    # Third-party LLM API usage (EcoLogits ranges): Scope 3 category 1 beside the public
    # cloud, never added to either figure above; None where the group has none.
    llm_api: LlmApiFootprint | None = None


def rollups_visible(*, principal: Principal, start: date, end: date) -> QuerySet[DailyRollup]:
    """Rollup rows of [start, end) that this principal may read."""
    return principal.visible(DailyRollup.objects.filter(day__gte=start, day__lt=end))


def _text(value) -> str:
    if isinstance(value, date):
        return value.isoformat()[:7]
    return "" if value is None else str(value)


def _scope_footprint(sums: Sums, scope: ReportedScope) -> ScopeFootprint:
    if not scope.market_based:
        status = NOT_APPLICABLE
    elif sums.unallocated_kwh:
        status = MARKET_PARTIAL
    else:
        status = MARKET_COMPLETE
    footprint = {}
    for figure in FIGURES:
        if not figure.in_totals:
            continue
        reported = scope.key in figure.scopes
        if figure.summing is Summing.MARKET and status != MARKET_COMPLETE:
            reported = False
        footprint[figure.column] = getattr(sums, figure.column) if reported else None
    return {**footprint, "market_status": status}


def _group(
    key: str, label: str, by_scope: dict[str, Sums], llm_api: LlmApiFootprint | None = None
) -> FootprintGroup:
    figures = {s.key: _scope_footprint(by_scope.get(s.key, Sums()), s) for s in REPORTED_SCOPES}
    return FootprintGroup(key=key, label=label, llm_api=llm_api, **figures)


def _llm_api_groups(
    *, principal: Principal, start: date, end: date, group_by: str
) -> tuple[LlmApiFootprint | None, dict[str, LlmApiGroup]]:
    """LLM API usage in the footprint's groups: by team, model and month as the rollups; all
    of it in the Scope 3 category 1 group by scope; by location, in the total only (it runs
    in the provider's data centres, none of the organisation's locations)."""
    total = llm_api_total(principal=principal, start=start, end=end)
    if total is None or group_by not in (*LLM_GROUPINGS, "scope"):
        return total, {}
    if group_by == "scope":
        scope = EmissionScope.SCOPE3_CAT1
        return total, {scope: LlmApiGroup(scope, scope, total)}
    groups = llm_api_groups(principal=principal, start=start, end=end, group_by=group_by)
    return total, {group.key: group for group in groups}


def footprint_summary(
    *, principal: Principal, start: date, end: date, group_by: str
) -> tuple[FootprintGroup, list[FootprintGroup]]:
    """Totals and one line per group for the period [start, end), each scope apart."""
    rows = rollups_visible(principal=principal, start=start, end=end)
    key_field, label_field = GROUPINGS[group_by]
    if group_by == "month":
        rows = rows.annotate(month=TruncMonth("day"))
    grouped = rows.values(key_field, label_field, "scope").annotate(**ROLLUP_SUMS).order_by()
    groups: dict[str, dict[str, Sums]] = defaultdict(lambda: defaultdict(Sums))
    labels: dict[str, str] = {}
    totals: dict[str, Sums] = defaultdict(Sums)
    for row in grouped:
        key = _month_key(row["month"]) if group_by == "month" else _text(row[key_field])
        labels[key] = key if group_by == "month" else _text(row[label_field]) or "(unspecified)"
        groups[key][row["scope"]].add(row)
        totals[row["scope"]].add(row)
    llm_total, llm_groups = _llm_api_groups(
        principal=principal, start=start, end=end, group_by=group_by
    )
    for key, llm in llm_groups.items():
        labels.setdefault(key, llm.label)
        groups.setdefault(key, defaultdict(Sums))
    order = sorted(groups) if group_by == "month" else sorted(groups, key=lambda k: labels[k])
    return _group("total", "Total", totals, llm_total), [
        _group(k, labels[k], groups[k], llm_groups[k].figures if k in llm_groups else None)
        for k in order
    ]


# --- Scope 2 report ----------------------------------------------------------------------
# Every figure below is read from DailyRollup (energy, location- and market-based kg) and
# MarketAllocation (which instrument covered which kWh); raw records are read only for the
# audit trail (input hash, lineage, factor rows), never for a figure.

BREAKDOWNS = ("team", "model", "location", "phase", "tier")
RENEWABLE_KINDS = frozenset({InstrumentKind.EAC, InstrumentKind.PPA, InstrumentKind.GREEN_TARIFF})
_PHASE_LABELS = dict(Phase.choices)
_TIER_LABELS = dict(EnergyTier.choices)
_INSTRUMENT_LABELS = dict(InstrumentKind.choices)
_BASIS_LABELS = {
    MarketBasis.RESIDUAL_MIX: "Residual mix",
    MarketBasis.GRID_AVERAGE: "Grid average (no residual mix published)",
}


def _change(now: float, before: float) -> float | None:
    """Relative change in percent; None when there is nothing to compare with."""
    return None if before == 0 else (now - before) / before * 100.0


def _as_date(value) -> date:
    # SQLite returns TruncMonth as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _month_key(value) -> str:
    return _text(_as_date(value))


def _scoped(sums_by_scope: dict[str, Sums]) -> dict:
    return {
        scope.key: sums_by_scope.get(scope.key, Sums()).totals(scope.market_based)
        for scope in REPORTED_SCOPES
    }


def _monthly(
    principal: Principal, start: date, end: date
) -> tuple[dict[str, dict[str, Sums]], dict[tuple[int, str], float]]:
    """{"YYYY-MM": {scope: Sums}} for [start, end), and the Scope 2 facility kWh per
    (location, month): one grouped scan of the rollups."""
    rows = (
        rollups_visible(principal=principal, start=start, end=end)
        .annotate(month=TruncMonth("day"))
        .values("month", "scope", "location_id")
        .annotate(**ROLLUP_SUMS)
        .order_by()
    )
    months: dict[str, dict[str, Sums]] = defaultdict(lambda: defaultdict(Sums))
    scope2_kwh: dict[tuple[int, str], float] = defaultdict(float)
    for row in rows:
        month = _month_key(row["month"])
        months[month][row["scope"]].add(row)
        if row["scope"] == EmissionScope.SCOPE2:
            scope2_kwh[(row["location_id"], month)] += row["facility_kwh"] or 0.0
    return months, scope2_kwh


def _period_totals(
    months: dict[str, dict[str, Sums]], period: periods.Period, first_day: date | None, today: date
) -> dict:
    """A period's figures, scope by scope, and how much of the period they cover."""
    by_scope: dict[str, Sums] = defaultdict(Sums)
    first, last = _text(period.start), _text(period.end)
    for month, scopes in months.items():
        if first <= month < last:
            for scope, sums in scopes.items():
                by_scope[scope].add(asdict(sums))
    covered = periods.coverage(period, first_day=first_day, today=today)
    if not any(sums.record_count for sums in by_scope.values()):
        covered = periods.Coverage(periods.NO_DATA, "no data")
    return {
        **period.as_dict(),
        **_scoped(by_scope),
        "coverage": covered.status,
        "coverage_note": covered.note,
    }


def _coverage_of(totals: dict) -> periods.Coverage:
    return periods.Coverage(totals["coverage"], totals["coverage_note"])


def _comparison(current: dict, other: dict) -> dict:
    """`other` with the Scope 2 change from it to `current`: only between two periods the
    data covers completely (a partial quarter against a whole one is no trend)."""
    now, before = current["scope2"], other["scope2"]
    unlike = periods.like_for_like(
        _coverage_of(current), current["label"], _coverage_of(other), other["label"]
    )
    return {
        **other,
        "change_note": unlike,
        "change_pct": {
            "mwh": None if unlike else _change(now["mwh"], before["mwh"]),
            "location_t": None if unlike else _change(now["location_t"], before["location_t"]),
            "market_t": None if unlike else _change(now["market_t"], before["market_t"]),
        },
    }


def first_day_of(rows: QuerySet[DailyRollup]) -> date | None:
    """The earliest day of these rollups: periods before it have no data, and one it falls
    inside is partial."""
    first = rows.aggregate(first=Min("day"))["first"]
    return _as_date(first) if first else None


def _line(
    key, label: str, sums: Sums, total_kwh: float, market_based: bool = True, **extra
) -> dict:
    return {
        "key": _text(key),
        "label": label,
        **extra,
        **sums.totals(market_based),
        "share": sums.facility_kwh / total_kwh if total_kwh else 0.0,
    }


def _lines(
    groups: dict,
    labels: dict,
    total_kwh: float,
    extras: dict | None = None,
    market_based: bool = True,
) -> list:
    lines = [
        _line(
            key,
            labels.get(key) or "(unspecified)",
            sums,
            total_kwh,
            market_based,
            **(extras or {}).get(key, {}),
        )
        for key, sums in groups.items()
    ]
    return sorted(lines, key=lambda line: (-line["location_t"], line["label"], line["key"]))


def _intensity(lines: dict[tuple[int | None, str], Sums], names: dict) -> list[dict]:
    """g CO2e per 1k inferences and per 1M tokens of each model's inference-phase rows, one
    line per model and scope: a scope's grams over its own counts, never two scopes' sums."""
    scopes = {scope.key: scope for scope in REPORTED_SCOPES}
    rows = []
    for (model_id, scope_key), sums in lines.items():
        if not (sums.inferences or sums.tokens):
            continue
        scope = scopes[scope_key]
        figures = sums.totals(scope.market_based)
        row = {
            "key": _text(model_id),
            "label": names.get(model_id) or "(unspecified)",
            "scope": scope.key,
            "scope_label": scope.label,
            "inferences": sums.inferences,
            "tokens": sums.tokens,
            "mwh": figures["mwh"],
            "location_t": figures["location_t"],
            "market_t": figures["market_t"] if figures["market_complete"] else None,
        }
        market_kg = sums.market_kg if row["market_t"] is not None else None
        row.update(intensities(sums.location_kg, sums, prefix="location_"))
        row.update(intensities(market_kg, sums, prefix="market_"))
        rows.append(row)
    order = list(scopes)
    return sorted(rows, key=lambda r: (r["label"], order.index(r["scope"])))


def _instrument_coverage(
    principal: Principal, period: periods.Period, scope2_kwh_by_zone_month: dict, total_kwh: float
) -> dict:
    """Share of Scope 2 consumption each instrument kind covered, and what was left.

    Allocations are per organisation × zone × month; a principal limited to some teams gets
    its pro-rata part (its kWh in that zone-month over the allocated kWh there).
    """
    allocations = (
        MarketAllocation.objects.filter(
            organisation=principal.organisation,
            month__gte=period.start,
            month__lt=period.end,
        )
        .values("zone", "month", "basis", "instrument_id")
        .annotate(kwh=Sum("kwh"), kg=Sum("kg"))
        .order_by()
    )
    allocations = list(allocations)
    allocated_by_zone_month: dict[tuple, float] = defaultdict(float)
    for row in allocations:
        allocated_by_zone_month[(row["zone"], _month_key(row["month"]))] += row["kwh"]
    instrument_ids = {row["instrument_id"] for row in allocations if row["instrument_id"]}
    instruments = {
        i.id: i
        for i in ContractualInstrument.objects.filter(organisation=principal.organisation).filter(
            Q(id__in=instrument_ids) | Q(valid_from__lt=period.end, valid_to__gte=period.start)
        )
    }
    by_category: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    by_instrument: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in allocations:
        key = (row["zone"], _month_key(row["month"]))
        allocated = allocated_by_zone_month[key]
        ratio = scope2_kwh_by_zone_month.get(key, 0.0) / allocated if allocated else 0.0
        kwh, kg = row["kwh"] * ratio, row["kg"] * ratio
        instrument = instruments.get(row["instrument_id"])
        category = instrument.kind if instrument else row["basis"]
        by_category[category][0] += kwh
        by_category[category][1] += kg
        if instrument:
            by_instrument[instrument.id][0] += kwh
            by_instrument[instrument.id][1] += kg

    def share(kwh: float) -> float:
        return kwh / total_kwh if total_kwh else 0.0

    order = [*InstrumentKind.values, MarketBasis.RESIDUAL_MIX, MarketBasis.GRID_AVERAGE]
    categories = [
        {
            "key": key,
            "label": _INSTRUMENT_LABELS.get(key) or _BASIS_LABELS.get(key, key),
            "is_instrument": key in InstrumentKind.values,
            "mwh": FACILITY_ENERGY.shown(by_category[key][0]),
            "market_t": MARKET_EMISSIONS.shown(by_category[key][1]),
            "share": share(by_category[key][0]),
        }
        for key in order
        if key in by_category
    ]
    renewable_kwh = sum(
        by_instrument[i.id][0]
        for i in instruments.values()
        if i.kind in RENEWABLE_KINDS and i.kg_per_kwh == 0
    )
    listed = [
        {
            "id": i.id,
            "kind": i.kind,
            "kind_label": _INSTRUMENT_LABELS.get(i.kind, i.kind),
            "reference": i.reference,
            "supplier": i.supplier,
            "zone": i.zone,
            "valid_from": i.valid_from.isoformat(),
            "valid_to": i.valid_to.isoformat(),
            "contracted_mwh": i.mwh,
            "kg_per_kwh": i.kg_per_kwh,
            "renewable": i.kind in RENEWABLE_KINDS and i.kg_per_kwh == 0,
            "allocated_mwh": FACILITY_ENERGY.shown(by_instrument[i.id][0]),
            "used": i.id in instrument_ids,
        }
        for i in sorted(instruments.values(), key=lambda i: (i.kind, i.reference, i.id))
    ]
    covered = sum(by_category[c["key"]][0] for c in categories if c["is_instrument"])
    return {
        "categories": categories,
        "instruments": listed,
        "instrument_share": share(covered),
        "renewable_share": share(renewable_kwh),
        "renewable_mwh": FACILITY_ENERGY.shown(renewable_kwh),
        "grid_average_fallback_mwh": FACILITY_ENERGY.shown(
            by_category[MarketBasis.GRID_AVERAGE][0]
        ),
    }


@contextmanager
def _report_snapshot() -> Iterator[None]:
    """One consistent view for the report's queries (greenai_portal.db.consistent_read) and,
    on Postgres, GROUP BYs that hash in memory without JIT compilation.

    A large quarter is ~1M rollup rows in ~10k groups; with the default 4 MB work_mem the
    planner sorts them on disk (about twice as slow), and JIT costs more than it saves on a
    query of a second. SET LOCAL ends with the transaction.
    """
    with consistent_read():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
                cursor.execute("SET LOCAL jit = off")
        yield


def _names(model, ids, *fields) -> dict:
    return {row[0]: row[1:] for row in model.objects.filter(id__in=ids).values_list("id", *fields)}


def scope2_report(*, principal: Principal, year: int, quarter: int) -> dict:
    """The live Scope 2 report of a quarter, with YTD, year and comparisons, from rollups.

    Figures are in MWh and t CO2e, unrounded; a locked version stores exactly this dict.
    """
    with _report_snapshot():
        return _scope2_report(principal, year, quarter)


def _month_keys(start: date, count: int) -> list[str]:
    """ "YYYY-MM" of `count` months from `start`."""
    index = start.year * 12 + start.month - 1
    return [f"{i // 12}-{i % 12 + 1:02d}" for i in range(index, index + count)]


def _trend_month(month: str, scopes: dict[str, Sums]) -> dict:
    """A month of the report's trend; a scope without records that month is a gap (None),
    not a zero, and public cloud has no market-based figure."""
    scope2 = scopes.get(EmissionScope.SCOPE2)
    cloud = scopes.get(EmissionScope.SCOPE3_CAT1)
    return {
        "month": month,
        "scope2_mwh": scope2.shown(FACILITY_ENERGY) if scope2 else None,
        "scope2_location_t": scope2.shown(LOCATION_EMISSIONS) if scope2 else None,
        "scope2_market_t": scope2.shown(MARKET_EMISSIONS) if scope2 else None,
        "scope3_cat1_location_t": cloud.shown(LOCATION_EMISSIONS) if cloud else None,
    }


def _scope2_report(principal: Principal, year: int, quarter: int) -> dict:
    period = periods.quarter(year, quarter)
    fine = (
        rollups_visible(principal=principal, start=period.start, end=period.end)
        .values(
            "scope",
            "team_id",
            "ai_model_id",
            "location_id",
            "phase",
            "energy_tier",
            CURRENCY_COLUMN,
        )
        .annotate(**ROLLUP_SUMS, **REPORT_COST_SUMS)
        .order_by()
    )
    fine = list(fine)
    locations = _names(Location, {r["location_id"] for r in fine}, "code", "name", "zone", "kind")
    scope2 = [r for r in fine if r["scope"] == EmissionScope.SCOPE2]
    cloud = [r for r in fine if r["scope"] != EmissionScope.SCOPE2]
    groups: dict[str, dict] = {name: defaultdict(Sums) for name in BREAKDOWNS}
    total, cloud_total = Sums(), Sums()
    for row in scope2:
        total.add(row)
        groups["team"][row["team_id"]].add(row)
        groups["model"][row["ai_model_id"]].add(row)
        groups["location"][row["location_id"]].add(row)
        groups["phase"][row["phase"]].add(row)
        groups["tier"][row["energy_tier"]].add(row)
    cloud_locations: dict[int, Sums] = defaultdict(Sums)
    inference: dict[tuple[int | None, str], Sums] = defaultdict(Sums)
    for row in cloud:
        cloud_total.add(row)
        cloud_locations[row["location_id"]].add(row)
    for row in fine:
        if row["phase"] == Phase.INFERENCE:
            inference[(row["ai_model_id"], row["scope"])].add(row)

    teams = {k: v[0] for k, v in _names(Team, {r["team_id"] for r in fine}, "name").items()}
    models = {k: v[0] for k, v in _names(AiModel, {r["ai_model_id"] for r in fine}, "name").items()}
    location_labels = {k: f"{v[0]} ({v[2]})" for k, v in locations.items()}
    location_extras = {
        k: {"code": v[0], "name": v[1], "zone": v[2], "kind": v[3]} for k, v in locations.items()
    }
    # Energy cost per currency, of each scope and location line (reports.cost_sci_selectors).
    costs = report_costs(fine)
    costed_locations = {
        scope.key: {
            k: {**extra, **costs.of_location(scope.key, k)} for k, extra in location_extras.items()
        }
        for scope in REPORTED_SCOPES
    }
    kwh = total.facility_kwh
    breakdowns = {
        "team": _lines(groups["team"], teams, kwh),
        "model": _lines(groups["model"], models, kwh),
        "location": _lines(
            groups["location"], location_labels, kwh, costed_locations[EmissionScope.SCOPE2]
        ),
        "phase": _lines(groups["phase"], _PHASE_LABELS, kwh),
        "tier": _lines(groups["tier"], _TIER_LABELS, kwh),
    }

    prev_year, prev_quarter = periods.previous_quarter(year, quarter)
    # Nothing after the quarter's end: the trend is the 24 months that end with it.
    trend_start = date(period.end.year - 2, period.end.month, 1)
    months, scope2_kwh = _monthly(principal, trend_start, period.end)
    first_day = first_day_of(rollups_visible(principal=principal, start=date.min, end=date.max))
    today = date.today()

    def totals_of(other: periods.Period) -> dict:
        return _period_totals(months, other, first_day, today)

    first, last = _text(period.start), _text(period.end)
    kwh_by_zone_month: dict[tuple, float] = defaultdict(float)
    for (location_id, month), location_kwh in scope2_kwh.items():
        if first <= month < last:
            kwh_by_zone_month[(locations[location_id][2], month)] += location_kwh
    current = totals_of(period)
    trend = [_trend_month(month, months.get(month, {})) for month in _month_keys(trend_start, 24)]
    dataset = FactorDataset.objects.filter(is_active=True).order_by("-loaded_at").first()
    organisation = principal.organisation
    return {
        "organisation": {
            "id": organisation.id,
            "name": organisation.name,
            "slug": organisation.slug,
        },
        "year": year,
        "quarter": quarter,
        "period": period.as_dict(),
        "teams_limited": not principal.sees_whole_organisation,
        "methodology_version": METHODOLOGY_VERSION,
        "factor_dataset": f"{dataset.name} {dataset.version}" if dataset else None,
        "factor_basis": organisation.factor_basis,
        "scope2": {**total.totals(), **costs.of_scope(EmissionScope.SCOPE2)},
        "scope3_cat1": {
            **cloud_total.totals(market_based=False),
            **costs.of_scope(EmissionScope.SCOPE3_CAT1),
            "by_location": _lines(
                cloud_locations,
                location_labels,
                cloud_total.facility_kwh,
                costed_locations[EmissionScope.SCOPE3_CAT1],
                market_based=False,
            ),
        },
        "market": _instrument_coverage(principal, period, kwh_by_zone_month, kwh),
        "breakdowns": breakdowns,
        "intensity": _intensity(inference, models),
        "periods": {
            "quarter": current,
            "year_to_date": totals_of(periods.year_to_date(year, quarter)),
        },
        "comparison": {
            "previous_quarter": _comparison(
                current, totals_of(periods.quarter(prev_year, prev_quarter))
            ),
            "same_quarter_last_year": _comparison(
                current, totals_of(periods.quarter(year - 1, quarter))
            ),
        },
        "trend": trend,
    }


# --- Audit trail: the raw inputs behind a quarter (never used for a figure) ---------------

_HASHED_FIELDS = (
    "external_id",
    "content_hash",
    "status",
    "it_kwh",
    "facility_kwh",
    "location_kg",
    "grid_factor_id",
    "factor_override_id",
    "methodology_version",
)


@dataclass(frozen=True)
class QuarterInputs:
    record_count: int
    pending_count: int
    failed_count: int
    content_hash: str
    methodology_versions: list[str]
    batches: list[dict]
    grid_factor_ids: frozenset[int]
    override_ids: frozenset[int]
    hardware_ids: frozenset[int]
    coefficient_ids: frozenset[int]
    facility_wue_ids: frozenset[int] = frozenset()
    cloud_wue_ids: frozenset[int] = frozenset()
    embodied_ids: frozenset[int] = frozenset()
    tariff_ids: frozenset[int] = frozenset()


def _hash_value(value) -> str:
    # repr() of a float is its shortest exact form: the same number always hashes the same.
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def quarter_inputs(
    *, organisation_id: int, start: date, end: date, up_to: dict[str, int] | None = None
) -> QuarterInputs:
    """Count, hash and lineage of an organisation's records of [start, end) (only those at or
    below the `up_to` record ids, a lock's cut-off, when given).

    content_hash = SHA-256 over one line per record, workload records ("W") then cloud usage
    records ("C"), each sorted by external_id: kind|external_id|content_hash|status|it_kwh|
    facility_kwh|location_kg|grid_factor_id|factor_override_id|methodology_version; then one
    line per market allocation ("M") sorted by zone, month, basis, instrument: zone|month|basis|
    instrument_id|kwh|kg_per_kwh|kg. Same inputs and results → same hash.
    """
    digest = hashlib.sha256()
    count = pending = failed = 0
    versions: set[str] = set()
    batches: dict[int, int] = defaultdict(int)
    grid_ids: set[int] = set()
    override_ids: set[int] = set()
    # Factor rows a record names beside its grid factor: its power model, WUE row (both kinds),
    # embodied row and, for workloads, its tariff; for cloud usage its coefficient (not hashed:
    # they follow from the hashed inputs).
    water = ("facility_wue_id", "cloud_wue_id")
    lineage: dict[str, set[int]] = defaultdict(set)
    hashed = len(_HASHED_FIELDS)
    for kind, model, extra in (
        ("W", WorkloadRecord, ("power_model_id", *water, "embodied_factor_id", "tariff_id")),
        ("C", CloudUsageRecord, ("power_model_id", "coefficient_id", *water, "embodied_factor_id")),
    ):
        rows = (
            _records_of(model, organisation_id, start, end, up_to)
            .order_by("external_id")
            .values_list(*_HASHED_FIELDS, *extra, "batch_id")
        )
        for row in rows.iterator(chunk_size=20000):
            digest.update(("|".join([kind, *map(_hash_value, row[:hashed])]) + "\n").encode())
            for column, value in zip(extra, row[hashed:-1], strict=True):
                if value:
                    lineage[column].add(value)
            count += 1
            status = row[2]
            pending += status == ComputeStatus.PENDING
            failed += status == ComputeStatus.FAILED
            if row[8]:
                versions.add(row[8])
            if row[6]:
                grid_ids.add(row[6])
            if row[7]:
                override_ids.add(row[7])
            batches[row[-1]] += 1
    allocations = (
        MarketAllocation.objects.filter(
            organisation_id=organisation_id, month__gte=start, month__lt=end
        )
        .order_by("zone", "month", "basis", "instrument_id", "id")
        .values_list(
            "zone",
            "month",
            "basis",
            "instrument_id",
            "kwh",
            "kg_per_kwh",
            "kg",
            "grid_factor_id",
            "factor_override_id",
            "methodology_version",
        )
    )
    for row in allocations:
        digest.update(("|".join(["M", *map(_hash_value, row[:7])]) + "\n").encode())
        if row[7]:
            grid_ids.add(row[7])
        if row[8]:
            override_ids.add(row[8])
        if row[9]:
            versions.add(row[9])
    batch_rows = IngestBatch.objects.filter(id__in=batches).order_by("id")
    return QuarterInputs(
        record_count=count,
        pending_count=pending,
        failed_count=failed,
        content_hash=digest.hexdigest(),
        methodology_versions=sorted(versions),
        batches=[
            {
                "id": b.id,
                "source": b.source,
                "created_at": b.created_at.isoformat(),
                "received": b.received,
                "created": b.created,
                "records_in_period": batches[b.id],
            }
            for b in batch_rows
        ],
        grid_factor_ids=frozenset(grid_ids),
        override_ids=frozenset(override_ids),
        hardware_ids=frozenset(lineage["power_model_id"]),
        coefficient_ids=frozenset(lineage["coefficient_id"]),
        facility_wue_ids=frozenset(lineage["facility_wue_id"]),
        cloud_wue_ids=frozenset(lineage["cloud_wue_id"]),
        embodied_ids=frozenset(lineage["embodied_factor_id"]),
        tariff_ids=frozenset(lineage["tariff_id"]),
    )


def factor_rows(
    *,
    organisation_id: int,
    grid_factor_ids,
    override_ids,
    hardware_ids=(),
    coefficient_ids=(),
    facility_wue_ids=(),
    cloud_wue_ids=(),
    embodied_ids=(),
    tariff_ids=(),
) -> list[dict]:
    """The factor rows a quarter's figures used, with their provenance; `id` is
    "<grid|override|hardware|coefficient|facility_wue|cloud_wue>:<row id>"."""
    grid = GridFactor.objects.filter(id__in=grid_factor_ids).select_related("dataset")
    rows = [
        {
            "kind": f.kind,
            "zone": f.zone,
            "year": f.year,
            "month": f.month,
            "basis": f.basis,
            "kg_per_kwh": f.kg_per_kwh,
            "source": f.source,
            "source_url": f.source_url,
            "licence": f.licence,
            "dataset": f"{f.dataset.name} {f.dataset.version}",
            "id": f"grid:{f.id}",
        }
        for f in grid
    ]
    overrides = FactorOverride.objects.filter(organisation_id=organisation_id, id__in=override_ids)
    rows += [
        {
            "kind": f"override ({o.kind})",
            "zone": o.zone,
            "year": o.valid_from.year,
            "month": None,
            "basis": "",
            "kg_per_kwh": o.kg_per_kwh,
            "source": f"{o.source} (valid {o.valid_from} to {o.valid_to})",
            "source_url": "",
            "licence": "organisation's own figure",
            "dataset": "organisation override",
            "id": f"override:{o.id}",
        }
        for o in overrides
    ]
    # Power models and cloud coefficients describe no zone or year: listed after the grid rows.
    hardware = Hardware.objects.filter(id__in=hardware_ids).select_related("dataset")
    coefficients = CloudCoefficient.objects.filter(id__in=coefficient_ids).select_related("dataset")
    rows += [
        {
            "kind": f"hardware ({h.kind}, per {h.unit})",
            "zone": "",
            "year": None,
            "month": None,
            "basis": "",
            "kg_per_kwh": None,
            "idle_w": h.idle_w,
            "max_w": h.max_w,
            "source": f"{h.name}: {h.source}",
            "source_url": h.source_url,
            "licence": h.licence,
            "dataset": f"{h.dataset.name} {h.dataset.version}",
            "id": f"hardware:{h.id}",
        }
        for h in hardware
    ] + [
        {
            "kind": f"cloud coefficient ({c.key})",
            "zone": "",
            "year": None,
            "month": None,
            "basis": "",
            "kg_per_kwh": None,
            "value": c.value,
            "unit": c.unit,
            "source": c.source,
            "source_url": c.source_url,
            "licence": c.licence,
            "dataset": f"{c.dataset.name} {c.dataset.version}",
            "id": f"coefficient:{c.id}",
        }
        for c in coefficients
    ]
    rows += _wue_rows(organisation_id, facility_wue_ids, cloud_wue_ids)
    rows += _embodied_and_tariff_rows(organisation_id, embodied_ids, tariff_ids)
    return sorted(
        rows, key=lambda r: (r["zone"], r["kind"], r["year"] or 0, r["month"] or 0, r["id"])
    )


def _wue_rows(organisation_id: int, facility_wue_ids, cloud_wue_ids) -> list[dict]:
    """The WUE rows behind on-site water: the organisation's facility settings and the
    providers' published regional figures (the WUE is in `value`, L per IT kWh)."""
    facility = FacilityWue.objects.filter(
        organisation_id=organisation_id, id__in=facility_wue_ids
    ).select_related("location")
    cloud = CloudWue.objects.filter(id__in=cloud_wue_ids).select_related("dataset")
    common = {"month": None, "basis": "", "kg_per_kwh": None, "unit": "L per IT kWh"}
    return [
        {
            **common,
            "kind": "WUE (facility setting)",
            "zone": w.location.code,
            "year": w.valid_from.year,
            "value": w.wue_l_per_kwh,
            "source": f"WUE {w.wue_l_per_kwh} L/kWh: {w.source} "
            f"(valid {w.valid_from} to {w.valid_to})",
            "source_url": "",
            "licence": "organisation's own figure",
            "dataset": "organisation setting",
            "id": f"facility_wue:{w.id}",
        }
        for w in facility
    ] + [
        {
            **common,
            "kind": "WUE (cloud region)",
            "zone": f"{w.provider}:{w.region}",
            "year": w.year,
            "value": w.wue_l_per_kwh,
            "source": f"WUE {w.wue_l_per_kwh} L/kWh: {w.source}",
            "source_url": w.source_url,
            "licence": w.licence,
            "dataset": f"{w.dataset.name} {w.dataset.version}",
            "id": f"cloud_wue:{w.id}",
        }
        for w in cloud
    ]


# The factor rows of electricity tariffs (the audit PDF lists them beside the energy cost).
TARIFF_FACTOR_KIND = "electricity tariff"


def _embodied_and_tariff_rows(organisation_id: int, embodied_ids, tariff_ids) -> list[dict]:
    """The embodied rows (figure in the source: they are not kg per kWh) and the
    organisation's electricity tariffs a quarter's records used."""
    embodied = EmbodiedFactor.objects.filter(id__in=embodied_ids).select_related("dataset")
    tariffs = ElectricityTariff.objects.filter(
        organisation_id=organisation_id, id__in=tariff_ids
    ).select_related("location")
    blank = {"zone": "", "month": None, "basis": "", "kg_per_kwh": None}
    return [
        {
            **blank,
            "kind": "embodied (per device)",
            "year": None,
            "source": f"{e.hardware_code}: "
            + (
                f"{e.kg_co2e} kg CO2e over {e.lifetime_hours:g} h; "
                if e.kg_co2e is not None
                else ""
            )
            + e.source,
            "source_url": e.source_url,
            "licence": e.licence,
            "dataset": f"{e.dataset.name} {e.dataset.version}",
            "id": f"embodied:{e.id}",
        }
        for e in embodied
    ] + [
        {
            **blank,
            "kind": TARIFF_FACTOR_KIND,
            "year": t.valid_from.year,
            "source": f"{t.location.code}: {t.price_per_kwh} {t.currency}/kWh, {t.source} "
            f"(valid {t.valid_from} to {t.valid_to})",
            "source_url": "",
            "licence": "organisation's own figure",
            "dataset": "organisation tariff",
            "id": f"tariff:{t.id}",
        }
        for t in tariffs
    ]


def quarter_factor_rows(*, organisation_id: int, inputs: QuarterInputs) -> list[dict]:
    """Every factor row a quarter's records and market allocation name: grid factors,
    overrides, power models, cloud coefficients, embodied rows and tariffs. What a lock stores
    and a draft PDF lists."""
    return factor_rows(
        organisation_id=organisation_id,
        grid_factor_ids=inputs.grid_factor_ids,
        override_ids=inputs.override_ids,
        hardware_ids=inputs.hardware_ids,
        coefficient_ids=inputs.coefficient_ids,
        facility_wue_ids=inputs.facility_wue_ids,
        cloud_wue_ids=inputs.cloud_wue_ids,
        embodied_ids=inputs.embodied_ids,
        tariff_ids=inputs.tariff_ids,
    )


_LINEAGE_FIELDS = {
    # record column -> the prefix of the factor row id it names
    "grid_factor_id": "grid",
    "factor_override_id": "override",
    "power_model_id": "hardware",
    "facility_wue_id": "facility_wue",
    "cloud_wue_id": "cloud_wue",
    "embodied_factor_id": "embodied",
}


@consistent_read()
def quarter_factor_lines(*, principal: Principal, year: int, quarter: int) -> dict:
    """Which factor rows, dataset versions and methodology versions the figures of a quarter
    used: per location (the Scope 2 report's location lines and its cloud lines), from the
    computed records as they are now, and per zone and month of the market allocation.

    One GROUP BY per record table (set-based, no per-record Python). For a locked quarter
    the rows are those its latest version stored at the lock, figures as they were then
    (`locked_version` says which); a principal limited to teams gets the live rows.
    """
    period = periods.quarter(year, quarter)
    lines: dict[int, dict] = {}
    used: dict[str, set[int]] = defaultdict(set)
    datasets = {d.id: f"{d.name} {d.version}" for d in FactorDataset.objects.all()}
    for model, extra in ((WorkloadRecord, ("tariff_id",)), (CloudUsageRecord, ("coefficient_id",))):
        records = principal.visible(
            model.objects.filter(
                activity_date__gte=period.start,
                activity_date__lt=period.end,
                status=ComputeStatus.COMPUTED,
            )
        )
        columns = ("location_id", *_LINEAGE_FIELDS, *extra, "factor_dataset_id")
        groups = records.values(*columns, "methodology_version").annotate(n=Count("id"))
        for group in groups.order_by():
            line = lines.setdefault(
                group["location_id"],
                {"records": 0, "factor_ids": set(), "datasets": set(), "methodology": set()},
            )
            line["records"] += group["n"]
            line["datasets"].add(datasets.get(group["factor_dataset_id"]))
            line["methodology"].add(group["methodology_version"])
            for column, prefix in (
                *_LINEAGE_FIELDS.items(),
                ("coefficient_id", "coefficient"),
                ("tariff_id", "tariff"),
            ):
                if group.get(column):
                    line["factor_ids"].add(f"{prefix}:{group[column]}")
                    used[prefix].add(group[column])
    # Allocations are the organisation's (no team): a principal limited to teams gets none.
    allocations = principal.visible(
        MarketAllocation.objects.filter(month__gte=period.start, month__lt=period.end), team=None
    ).order_by("zone", "month", "basis", "instrument_id", "id")
    market = []
    for a in allocations:
        factor = (
            f"grid:{a.grid_factor_id}"
            if a.grid_factor_id
            else f"override:{a.factor_override_id}"
            if a.factor_override_id
            else None
        )
        used["grid"].add(a.grid_factor_id)
        used["override"].add(a.factor_override_id)
        market.append(
            {
                "zone": a.zone,
                "month": a.month.isoformat(),
                "basis": a.basis,
                "instrument_id": a.instrument_id,
                "mwh": FACILITY_ENERGY.shown(a.kwh),
                "kg_per_kwh": a.kg_per_kwh,
                "factor_id": factor,
                "methodology_version": a.methodology_version,
            }
        )
    locations = _names(Location, set(lines), "code", "zone", "kind")
    locked = (
        report_versions(principal=principal, year=year, quarter=quarter)[-1:]
        if principal.sees_whole_organisation
        else []
    )
    return {
        "year": year,
        "quarter": quarter,
        "locked_version": locked[0].version if locked else None,
        "period": period.as_dict(),
        "locations": sorted(
            (
                {
                    "key": _text(location_id),
                    "code": locations[location_id][0],
                    "zone": locations[location_id][1],
                    "kind": locations[location_id][2],
                    "records": line["records"],
                    "factor_ids": sorted(line["factor_ids"]),
                    "factor_datasets": sorted(v for v in line["datasets"] if v),
                    "methodology_versions": sorted(v for v in line["methodology"] if v),
                }
                for location_id, line in lines.items()
            ),
            key=lambda line: line["code"],
        ),
        "market": market,
        "factors": locked[0].factors
        if locked
        else factor_rows(
            organisation_id=principal.organisation.id,
            grid_factor_ids=used["grid"] - {None},
            override_ids=used["override"] - {None},
            hardware_ids=used["hardware"],
            coefficient_ids=used["coefficient"],
            facility_wue_ids=used["facility_wue"],
            cloud_wue_ids=used["cloud_wue"],
            embodied_ids=used["embodied"],
            tariff_ids=used["tariff"],
        ),
    }


_RECORD_MODELS = {"workload": WorkloadRecord, "cloud": CloudUsageRecord}


def _records_of(model, organisation_id: int, start: date, end: date, up_to: dict | None):
    records = model.objects.filter(
        organisation_id=organisation_id, activity_date__gte=start, activity_date__lt=end
    )
    if up_to is not None:
        kind = next(k for k, m in _RECORD_MODELS.items() if m is model)
        records = records.filter(id__lte=up_to[kind])
    return records


def pending_records(*, organisation_id: int, start: date, end: date, up_to: dict[str, int]) -> int:
    """Records of [start, end) at or below the `up_to` record ids still waiting to be computed."""
    return sum(
        _records_of(model, organisation_id, start, end, up_to)
        .filter(status=ComputeStatus.PENDING)
        .count()
        for model in _RECORD_MODELS.values()
    )


def last_record_ids() -> dict[str, int]:
    """The highest record ids stored now: a record with a higher id was stored later.

    Read from the primary keys, so instant; a lock keeps them to find late data quickly.
    """
    return {
        kind: model.objects.aggregate(last=Max("id"))["last"] or 0
        for kind, model in _RECORD_MODELS.items()
    }


def records_after(*, organisation_id: int, start: date, end: date, version: ReportVersion) -> int:
    """Records of [start, end) stored after `version` was locked: data that arrived late.

    With the record ids the lock kept this walks the primary keys above them; versions locked
    before those were kept compare created_at, a scan of the whole records table.
    """
    last_ids = (version.lineage or {}).get("last_record_ids")
    return sum(
        model.objects.filter(
            organisation_id=organisation_id,
            activity_date__gte=start,
            activity_date__lt=end,
            **({"id__gt": last_ids[kind]} if last_ids else {"created_at__gt": version.locked_at}),
        ).count()
        for kind, model in _RECORD_MODELS.items()
    )


def report_versions(*, principal: Principal, year: int, quarter: int) -> list[ReportVersion]:
    """The quarter's locked versions, oldest first; none for a principal limited to teams (a
    version covers the whole organisation)."""
    versions = ReportVersion.objects.filter(year=year, quarter=quarter)
    return list(principal.visible(versions, team=None).order_by("version"))


# --- What the page, the API and the PDF show -----------------------------------------------


def _version_meta(version: ReportVersion) -> dict:
    return {
        "version": version.version,
        "locked_by": version.locked_by_name,
        "locked_by_role": version.locked_by_role,
        "locked_at": version.locked_at.isoformat(),
        "content_hash": version.content_hash,
        "record_count": version.record_count,
        "methodology_versions": version.methodology_versions,
        "factor_datasets": version.factor_datasets,
        "reason": version.reason,
    }


@consistent_read()
def scope2_document(
    *, principal: Principal, year: int, quarter: int, version: int | None = None
) -> dict:
    """The report as shown: the locked version (latest, or the one asked for) of a locked
    quarter, else the live draft. Raises ReportVersion.DoesNotExist for an unknown version.

    A principal limited to some teams always gets the live figures of its teams: a locked
    version covers the whole organisation.
    """
    period = periods.quarter(year, quarter)
    versions = report_versions(principal=principal, year=year, quarter=quarter)
    whole = principal.sees_whole_organisation
    listed = [_version_meta(v) for v in versions] if whole else []
    if version is not None and not (whole and any(v.version == version for v in versions)):
        raise ReportVersion.DoesNotExist(f"{period.label} has no version {version}")
    if not (whole and versions):
        return {
            **scope2_report(principal=principal, year=year, quarter=quarter),
            "status": "draft" if whole else "team_view",
            "version": None,
            "lock": None,
            "records_after_lock": 0,
            "versions": listed,
            "restatements": [],
        }
    latest = versions[-1]
    chosen = latest if version is None else next(v for v in versions if v.version == version)
    return {
        **chosen.report,
        "status": "locked" if chosen is latest else "superseded",
        "version": chosen.version,
        "lock": _version_meta(chosen),
        "records_after_lock": records_after(
            organisation_id=principal.organisation.id,
            start=period.start,
            end=period.end,
            version=latest,
        ),
        "versions": listed,
        "restatements": [
            {**_version_meta(v), "differences": v.differences}
            for v in versions
            if v.previous_id and v.version <= chosen.version
        ],
    }


@consistent_read()
def audit_document(*, export) -> dict:
    """The report plus its audit trail (factors, lineage, hash) for an export job."""
    principal = Principal(
        organisation=export.organisation, access=frozenset({Access.READ}), team_ids=None
    )
    from reports.close_selectors import quarter_sign_off  # it reads quarter_inputs from here

    chosen = export.report_version
    sign_off = quarter_sign_off(
        organisation_id=export.organisation_id, year=export.year, quarter=export.quarter
    )
    document = scope2_document(
        principal=principal,
        year=export.year,
        quarter=export.quarter,
        version=chosen.version if chosen else None,
    )
    if chosen is not None:
        return {
            **document,
            "factors": chosen.factors,
            "lineage": chosen.lineage,
            "sign_off": sign_off,
        }
    period = periods.quarter(export.year, export.quarter)
    inputs = quarter_inputs(
        organisation_id=export.organisation_id, start=period.start, end=period.end
    )
    return {
        **document,
        "sign_off": sign_off,
        "factors": quarter_factor_rows(organisation_id=export.organisation_id, inputs=inputs),
        "lineage": {
            "record_count": inputs.record_count,
            "failed_count": inputs.failed_count,
            "pending_count": inputs.pending_count,
            "batches": inputs.batches,
        },
        "draft_inputs": {
            "record_count": inputs.record_count,
            "content_hash": inputs.content_hash,
            "methodology_versions": inputs.methodology_versions,
        },
    }


def quarters_with_data(*, principal: Principal) -> list[dict]:
    """Every quarter that has rollups or a locked version, newest first, with its status."""
    days = rollups_visible(principal=principal, start=date(1970, 1, 1), end=date(9999, 1, 1))
    months = days.annotate(month=TruncMonth("day")).values_list("month", flat=True).distinct()
    found = {periods.quarter_of(_as_date(m)) for m in months.order_by()}
    locked: dict[tuple[int, int], int] = {}
    for v in principal.visible(ReportVersion.objects.all(), team=None):
        locked[(v.year, v.quarter)] = max(v.version, locked.get((v.year, v.quarter), 0))
    found |= set(locked)
    return [
        {"year": y, "quarter": q, "label": f"{y} Q{q}", "locked_version": locked.get((y, q))}
        for y, q in sorted(found, reverse=True)
    ]
