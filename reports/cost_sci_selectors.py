"""Reads of energy cost (per currency, never added across currencies) and of the SCI per
model, from the rollups of the caller's organisation and teams."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, Sum

from accounts.principal import Principal
from inventory.calculation.cost import (
    cost_per_1k_inferences,
    cost_per_1m_tokens,
    kg_per_currency_unit,
)
from inventory.calculation.sci import FunctionalUnit, Sci, sci
from inventory.figures import (
    CURRENCY_COLUMN,
    ENERGY_COST,
    FACILITY_ENERGY,
    LOCATION_EMISSIONS,
    RECORD_COUNT,
    ROLLUP_SUMS,
    Sums,
)
from inventory.models import AiModel, DailyRollup, Phase

COST_GROUPINGS = {"team": ("team_id", "team__name"), "model": ("ai_model_id", "ai_model__name")}


@dataclass(frozen=True)
class CostLine:
    """Cost of a group in one currency, with its intensities."""

    key: int | None
    label: str
    currency: str
    cost: float
    location_kg: float
    inferences: int
    tokens: int
    cost_per_1k_inferences: float | None
    cost_per_1m_tokens: float | None
    kg_per_currency_unit: float | None


def period_rollups(*, principal: Principal, start: date, end: date):
    """The rollup rows of [start, end) the principal may see."""
    rows = DailyRollup.objects.filter(
        organisation=principal.organisation, day__gte=start, day__lt=end
    )
    return principal.visible(rows)


def cost_lines(*, rows, group_by: str | None = None) -> list[CostLine]:
    """Cost per currency (and per team or model when grouped) of these visible rollup rows
    (period_rows, or a dashboard's filtered rows): only rows with a cost; an empty list means
    no cost is known, never zero."""
    key, label = COST_GROUPINGS[group_by] if group_by else (None, None)
    fields = [CURRENCY_COLUMN, *([key, label] if key else [])]
    grouped = (
        rows.filter(**{f"{ENERGY_COST.column}__isnull": False})
        .values(*fields)
        .annotate(
            cost=Sum(ENERGY_COST.column),
            kg=Sum("location_kg"),
            inferences=Sum("inferences"),
            tokens=Sum("tokens"),
        )
        .order_by(*([label] if label else []), CURRENCY_COLUMN)
    )
    return [
        _cost_line(
            key=row[key] if key else None,
            label=(row[label] or "(no model)") if label else "All",
            currency=row[CURRENCY_COLUMN],
            sums=(row["cost"], row["kg"], row["inferences"], row["tokens"]),
        )
        for row in grouped
    ]


def _cost_line(
    *, key: int | None, label: str, currency: str, sums: tuple[float, float, int, int]
) -> CostLine:
    """A line of its (cost, location kg, inferences, tokens), with its intensities."""
    cost, kg, inferences, tokens = sums
    return CostLine(
        key=key,
        label=label,
        currency=currency,
        cost=cost,
        location_kg=kg,
        inferences=inferences,
        tokens=tokens,
        cost_per_1k_inferences=cost_per_1k_inferences(cost, inferences),
        cost_per_1m_tokens=cost_per_1m_tokens(cost, tokens),
        kg_per_currency_unit=kg_per_currency_unit(kg, cost),
    )


# What a dashboard cube sums beside ROLLUP_SUMS in its grouping by CURRENCY_COLUMN
# (reports.dashboard_selectors): cost_lines' sums, of the rows that have a cost, so the cost
# card reads the page's one scan of the rollups rather than a scan of its own.
_COSTED = Q(**{f"{ENERGY_COST.column}__isnull": False})
CUBE_COST_SUMS = {
    "cost_amount": Sum(ENERGY_COST.column),
    "costed_kg": Sum("location_kg", filter=_COSTED),
    "costed_inferences": Sum("inferences", filter=_COSTED),
    "costed_tokens": Sum("tokens", filter=_COSTED),
}
_COSTED_SQL = f"FILTER (WHERE {ENERGY_COST.column} IS NOT NULL)"
CUBE_COST_SUMS_SQL = {
    "cost_amount": f"SUM({ENERGY_COST.column})",
    "costed_kg": f"SUM(location_kg) {_COSTED_SQL}",
    "costed_inferences": f"(SUM(inferences) {_COSTED_SQL})::bigint",
    "costed_tokens": f"(SUM(tokens) {_COSTED_SQL})::bigint",
}


def cost_lines_summed(rows: Iterable[dict]) -> list[CostLine]:
    """cost_lines (ungrouped) of rollup rows already grouped by CURRENCY_COLUMN (among
    others) with CUBE_COST_SUMS: per currency, of the rows that have a cost."""
    sums: dict[str, list] = {}
    for row in rows:
        if row["cost_amount"] is None:
            continue
        line = sums.setdefault(row[CURRENCY_COLUMN], [0.0, 0.0, 0, 0])
        line[0] += row["cost_amount"]
        line[1] += row["costed_kg"] or 0.0
        line[2] += row["costed_inferences"] or 0
        line[3] += row["costed_tokens"] or 0
    return [
        _cost_line(key=None, label="All", currency=currency, sums=tuple(line))
        for currency, line in sorted(sums.items())  # as cost_lines orders them
    ]


# What the Scope 2 report's grouped rollup scan sums beside ROLLUP_SUMS (which already has
# the facility kWh, records and location kg), grouped by CURRENCY_COLUMN as well: the rows of
# a location have one currency or none, so the extra dimension adds few groups and no scan.
REPORT_COST_SUMS = {"cost_amount": Sum(ENERGY_COST.column)}


@dataclass
class _CurrencySums:
    """Running sums of the rollup rows priced in one currency (stored units)."""

    amount: float = 0.0
    kwh: float = 0.0
    records: int = 0
    kg: float = 0.0


def _cost_fields(by_currency: dict[str, _CurrencySums]) -> dict:
    """A report line's energy cost (reports.scope2_document._COST_FIELDS): one entry per
    currency, and how much of the line's energy and records has a cost in any currency."""
    return {
        "costs": [
            {
                "currency": currency,
                "amount": sums.amount,
                "mwh": FACILITY_ENERGY.shown(sums.kwh),
                "record_count": sums.records,
                "location_t": LOCATION_EMISSIONS.shown(sums.kg),
                "location_kg_per_unit": kg_per_currency_unit(sums.kg, sums.amount),
            }
            for currency, sums in sorted(by_currency.items())
        ],
        "costed_mwh": FACILITY_ENERGY.shown(sum(sums.kwh for sums in by_currency.values())),
        "costed_records": sum(sums.records for sums in by_currency.values()),
    }


def merged_cost_fields(lines: list[dict]) -> dict:
    """The cost fields of report lines taken together (a printed "other lines" line): {} when
    one of them was not computed when locked, as none of them then is complete."""
    if any(line.get("costs") is None for line in lines):
        return {}
    by_currency: dict[str, _CurrencySums] = defaultdict(_CurrencySums)
    for line in lines:
        for cost in line["costs"]:
            sums = by_currency[cost["currency"]]
            sums.amount += cost["amount"]
            sums.kwh += cost["mwh"] * FACILITY_ENERGY.scale
            sums.records += cost["record_count"]
            sums.kg += cost["location_t"] * LOCATION_EMISSIONS.scale
    return _cost_fields(by_currency)


def _by_currency() -> defaultdict:
    return defaultdict(lambda: defaultdict(_CurrencySums))


@dataclass
class ReportCosts:
    """Energy cost of a report's scopes and of their location lines, per currency."""

    scopes: dict[str, dict[str, _CurrencySums]] = field(default_factory=_by_currency)
    locations: dict[tuple[str, int], dict[str, _CurrencySums]] = field(default_factory=_by_currency)

    def of_scope(self, scope: str) -> dict:
        """The scope's cost fields; no costed rows give an empty list (not available)."""
        return _cost_fields(self.scopes.get(scope, {}))

    def of_location(self, scope: str, location_id: int) -> dict:
        return _cost_fields(self.locations.get((scope, location_id), {}))


def report_costs(rows: Iterable[dict]) -> ReportCosts:
    """Energy cost per scope and per location, per currency, of rollup rows grouped by scope,
    location and CURRENCY_COLUMN (among others) with ROLLUP_SUMS and REPORT_COST_SUMS: the
    facility kWh, records and location-based kg of the rows that have a cost. Rows without
    one have no currency: their energy is priced in none."""
    costs = ReportCosts()
    for row in rows:
        if row["cost_amount"] is None:
            continue
        currency = row[CURRENCY_COLUMN]
        for sums in (
            costs.scopes[row["scope"]][currency],
            costs.locations[(row["scope"], row["location_id"])][currency],
        ):
            sums.amount += row["cost_amount"]
            sums.kwh += row[FACILITY_ENERGY.column] or 0.0
            sums.records += row[RECORD_COUNT.column] or 0
            sums.kg += row[LOCATION_EMISSIONS.column] or 0.0
    return costs


# Which phases' rollup rows each functional unit counts, and what it counts: the inferences
# and tokens of inference records; training and fine-tuning records as one run each.
_UNIT_ROWS = {
    FunctionalUnit.INFERENCES_1K: ((Phase.INFERENCE,), "inferences"),
    FunctionalUnit.TOKENS_1M: ((Phase.INFERENCE,), "tokens"),
    FunctionalUnit.TRAINING_RUN: ((Phase.TRAINING, Phase.FINE_TUNING), "record_count"),
}


def model_sci(*, principal: Principal, model: AiModel, start: date, end: date) -> list[Sci]:
    """The model's SCI per functional unit over [start, end) (sci_of_phases), from one scan of
    its rollups grouped by phase."""
    rows = period_rollups(principal=principal, start=start, end=end).filter(ai_model=model)
    by_phase: dict[str, Sums] = defaultdict(Sums)
    for row in rows.values("phase").annotate(**ROLLUP_SUMS).order_by():
        by_phase[row["phase"]].add(row)
    return sci_of_phases(by_phase)


def sci_of_phases(by_phase: dict[str, Sums]) -> list[Sci]:
    """SCI per functional unit of a model's rollup sums by phase: E (facility kWh), I (the
    location-based intensity, O / E), M (amortised embodied kg, None where no row has one),
    R, and (E × I + M) / R."""
    scores = []
    for unit, (phases, counted) in _UNIT_ROWS.items():
        sums = Sums()
        for phase in phases:
            if phase in by_phase:
                sums.add(vars(by_phase[phase]))
        scores.append(
            sci(
                unit=unit,
                energy_kwh=sums.facility_kwh or 0.0,
                operational_kg=sums.location_kg or 0.0,
                embodied_kg=sums.embodied_kg,
                counted=getattr(sums, counted) or 0,
            )
        )
    return scores
