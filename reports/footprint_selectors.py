"""Footprint figures: the rollup cube the caller may read, grouped by team, model, month,
location or scope, each scope apart. Every query starts from the rollups of the caller's
organisation."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Min, QuerySet
from django.db.models.functions import TruncMonth

from accounts.principal import Principal
from inventory.figures import FIGURES, MARKET_EMISSIONS, ROLLUP_SUMS, Summing, Sums
from inventory.llm.selectors import (
    LLM_GROUPINGS,
    LlmApiFootprint,
    LlmApiGroup,
    llm_api_groups,
    llm_api_total,
)
from inventory.models import DailyRollup, EmissionScope
from inventory.selectors import rollup_sources_visible

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


def as_text(value: object) -> str:
    """A group's key or label as text: a date as its month "YYYY-MM", None as ""."""
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
    key_field, label_field = GROUPINGS[group_by]
    grouped = []
    for rows in rollup_sources_visible(principal=principal, start=start, end=end):
        if group_by == "month":
            rows = rows.annotate(month=TruncMonth("day"))
        grouped += rows.values(key_field, label_field, "scope").annotate(**ROLLUP_SUMS).order_by()
    groups: dict[str, dict[str, Sums]] = defaultdict(lambda: defaultdict(Sums))
    labels: dict[str, str] = {}
    totals: dict[str, Sums] = defaultdict(Sums)
    for row in grouped:
        key = month_key(row["month"]) if group_by == "month" else as_text(row[key_field])
        labels[key] = key if group_by == "month" else as_text(row[label_field]) or "(unspecified)"
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


def as_date(value: object) -> date:
    """A date read from the database."""
    # SQLite returns TruncMonth as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def month_key(value: object) -> str:
    """A month read from the database (TruncMonth) as "YYYY-MM"."""
    return as_text(as_date(value))


def first_day_of(rows: QuerySet[DailyRollup]) -> date | None:
    """The earliest day of these rollups: periods before it have no data, and one it falls
    inside is partial."""
    first = rows.aggregate(first=Min("day"))["first"]
    return as_date(first) if first else None
