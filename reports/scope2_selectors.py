"""The Scope 2 report of a quarter: its figures from the rollups, the document as shown (the
live draft or a locked version) and the audit document of an export."""

from collections import defaultdict
from datetime import date

from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from accounts.models import Team
from accounts.principal import Access, Principal
from greenai_portal import periods
from greenai_portal.db import consistent_read, large_read
from inventory.calculation.methodology import METHODOLOGY_VERSION
from inventory.figures import (
    CURRENCY_COLUMN,
    FACILITY_ENERGY,
    LOCATION_EMISSIONS,
    MARKET_EMISSIONS,
    ROLLUP_SUMS,
    Sums,
    intensities,
)
from inventory.models import (
    AiModel,
    ContractualInstrument,
    EmissionScope,
    EnergyTier,
    FactorDataset,
    InstrumentKind,
    Location,
    MarketAllocation,
    MarketBasis,
    Phase,
)
from inventory.selectors import rollups_visible
from reports.close_selectors import quarter_sign_off
from reports.cost_sci_selectors import REPORT_COST_SUMS, report_costs
from reports.footprint_selectors import (
    REPORTED_SCOPES,
    as_date,
    as_text,
    first_day_of,
    month_key,
)
from reports.lineage_selectors import (
    quarter_factor_rows,
    quarter_inputs,
    records_after,
    report_versions,
    values_by_id,
)
from reports.models import ReportVersion

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
        month = month_key(row["month"])
        months[month][row["scope"]].add(row)
        if row["scope"] == EmissionScope.SCOPE2:
            scope2_kwh[(row["location_id"], month)] += row["facility_kwh"] or 0.0
    return months, scope2_kwh


def _period_totals(
    months: dict[str, dict[str, Sums]], period: periods.Period, first_day: date | None, today: date
) -> dict:
    """A period's figures, scope by scope, and how much of the period they cover."""
    by_scope: dict[str, Sums] = defaultdict(Sums)
    first, last = as_text(period.start), as_text(period.end)
    for month, scopes in months.items():
        if first <= month < last:
            for scope, sums in scopes.items():
                by_scope[scope].add(vars(sums))
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


def _line(
    key, label: str, sums: Sums, total_kwh: float, market_based: bool = True, **extra
) -> dict:
    return {
        "key": as_text(key),
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
            "key": as_text(model_id),
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
        allocated_by_zone_month[(row["zone"], month_key(row["month"]))] += row["kwh"]
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
        key = (row["zone"], month_key(row["month"]))
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


def scope2_report(*, principal: Principal, year: int, quarter: int) -> dict:
    """The live Scope 2 report of a quarter, with YTD, year and comparisons, from rollups.

    Figures are in MWh and t CO2e, unrounded; a locked version stores exactly this dict.
    """
    # One view for its queries; ~1M rollup rows in ~10k groups hash in memory (large_read).
    with consistent_read(), large_read():
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
    locations = values_by_id(
        Location, {r["location_id"] for r in fine}, "code", "name", "zone", "kind"
    )
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

    teams = {k: v[0] for k, v in values_by_id(Team, {r["team_id"] for r in fine}, "name").items()}
    models = {
        k: v[0] for k, v in values_by_id(AiModel, {r["ai_model_id"] for r in fine}, "name").items()
    }
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

    first, last = as_text(period.start), as_text(period.end)
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
    found = {periods.quarter_of(as_date(m)) for m in months.order_by()}
    locked: dict[tuple[int, int], int] = {}
    for v in principal.visible(ReportVersion.objects.all(), team=None):
        locked[(v.year, v.quarter)] = max(v.version, locked.get((v.year, v.quarter), 0))
    found |= set(locked)
    return [
        {"year": y, "quarter": q, "label": f"{y} Q{q}", "locked_version": locked.get((y, q))}
        for y, q in sorted(found, reverse=True)
    ]
