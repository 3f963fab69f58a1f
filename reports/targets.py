"""Targets and budgets: how far along a period is, and where its run rate ends.

A budget limits each calendar quarter; a reduction target allows each calendar year a
straight-line share of the way from the base year's total to the target year's (base × (1 −
reduction)). The forecast is the run rate of the period so far: used ÷ elapsed days × the
period's days. A target reads one reported scope and one basis (location- or market-based
t CO2e, or facility MWh): scopes are never added.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from accounts.principal import Principal
from greenai_portal import periods
from inventory.figures import (
    FACILITY_ENERGY,
    LOCATION_EMISSIONS,
    MARKET_EMISSIONS,
    ROLLUP_SUMS,
    Sums,
)
from inventory.selectors import rollup_sources
from reports.models import Target

ON_TRACK, FORECAST_OVER, OVER, NOT_AVAILABLE = "on_track", "forecast_over", "over", "not_available"
UNITS = {
    Target.Basis.LOCATION: "t CO2e",
    Target.Basis.MARKET: "t CO2e",
    Target.Basis.ENERGY: "MWh",
}


def run_rate_forecast(used: float, elapsed_days: int, period_days: int) -> float | None:
    """Where the period ends at the rate so far; None before a whole day has passed."""
    return used / elapsed_days * period_days if elapsed_days > 0 else None


def trajectory_allowance(
    *, base: float, reduction_pct: float, base_year: int, target_year: int, year: int
) -> float:
    """The year's allowance on the straight line from the base year's total to the target."""
    target = base * (1 - reduction_pct / 100.0)
    share = min(max((year - base_year) / (target_year - base_year), 0.0), 1.0)
    return base - (base - target) * share


@dataclass(frozen=True)
class TargetProgress:
    target_id: int
    name: str
    kind: str
    team: str | None  # a team's slug; None for the organisation
    scope: str
    basis: str
    unit: str
    period: str  # "2026-Q4" (budget) or "2026" (reduction)
    period_start: date
    period_end: date  # exclusive
    elapsed_days: int
    period_days: int
    used: float | None  # None: not available (e.g. market-based not yet allocated)
    limit: float | None  # the budget, or the year's allowance; None without a base year total
    forecast: float | None
    status: str
    base_year: int | None = None
    target_year: int | None = None
    reduction_pct: float | None = None
    base_value: float | None = None  # the base year's total
    target_value: float | None = None  # the target year's: base × (1 − reduction)


def _value(target: Target, start: date, end: date) -> float | None:
    sums = Sums()
    for rows in rollup_sources(start=start, end=end):
        rows = rows.filter(organisation_id=target.organisation_id, scope=target.scope)
        if target.team_id is not None:
            rows = rows.filter(team_id=target.team_id)
        sums.add(rows.aggregate(**ROLLUP_SUMS))
    if target.basis == Target.Basis.ENERGY:
        return sums.shown(FACILITY_ENERGY)
    if target.basis == Target.Basis.LOCATION:
        return sums.shown(LOCATION_EMISSIONS)
    return sums.shown(MARKET_EMISSIONS) if sums.unallocated_kwh == 0 else None


def _period(target: Target, today: date) -> tuple[str, date, date]:
    if target.kind == Target.Kind.BUDGET:
        year, number = periods.quarter_of(today)
        quarter = periods.quarter(year, number)
        return f"{year}-Q{number}", quarter.start, quarter.end
    return str(today.year), date(today.year, 1, 1), date(today.year + 1, 1, 1)


def target_progress(target: Target, today: date) -> TargetProgress:
    """The target's current period (the quarter of a budget, the year of a reduction)."""
    label, start, end = _period(target, today)
    elapsed, days = (min(today, end) - start).days, (end - start).days
    used = _value(target, start, min(today, end))
    base_value = target_value = None
    if target.kind == Target.Kind.BUDGET:
        limit = target.budget
    else:
        base_value = _value(target, date(target.base_year, 1, 1), date(target.base_year + 1, 1, 1))
        limit = None
        if base_value:
            target_value = base_value * (1 - target.reduction_pct / 100.0)
            limit = trajectory_allowance(
                base=base_value,
                reduction_pct=target.reduction_pct,
                base_year=target.base_year,
                target_year=target.target_year,
                year=today.year,
            )
    forecast = None if used is None else run_rate_forecast(used, elapsed, days)
    if used is None or limit is None or forecast is None:
        status = NOT_AVAILABLE
    elif used > limit:
        status = OVER
    elif forecast > limit:
        status = FORECAST_OVER
    else:
        status = ON_TRACK
    return TargetProgress(
        target_id=target.id,
        name=target.name,
        kind=target.kind,
        team=target.team.slug if target.team_id else None,
        scope=target.scope,
        basis=target.basis,
        unit=UNITS[target.basis],
        period=label,
        period_start=start,
        period_end=end,
        elapsed_days=elapsed,
        period_days=days,
        used=used,
        limit=limit,
        forecast=forecast,
        status=status,
        base_year=target.base_year,
        target_year=target.target_year,
        reduction_pct=target.reduction_pct,
        base_value=base_value,
        target_value=target_value,
    )


def targets_visible(*, principal: Principal, team_id: int | None = None) -> QuerySet[Target]:
    """The organisation's targets the principal may follow: a team-limited member sees their
    teams' targets only (an organisation-wide total would show other teams' figures)."""
    targets = principal.visible(Target.objects.select_related("team"))
    return targets if team_id is None else targets.filter(team_id=team_id)


def targets_progress(*, principal: Principal, team_id: int | None = None) -> list[TargetProgress]:
    """The progress of the targets the principal follows (of one team, with `team_id`)."""
    today = timezone.now().date()
    return [
        target_progress(target, today)
        for target in targets_visible(principal=principal, team_id=team_id)
    ]
