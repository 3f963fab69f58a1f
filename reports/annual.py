"""The annual report of a fiscal year, read from its four quarters' Scope 2 reports.

Each quarter's figures are those of `scope2_document`: the locked version's of a locked
quarter, the live draft's otherwise (and, for a reader limited to some teams, the live
figures of those teams, as on the Scope 2 report). A year's figures are the sums of its
quarters', so the annual table always adds up to the quarterly reports.

ESRS E1-6 style: Scope 2 location- and market-based, public cloud Scope 3 category 1 beside
them, and a total with each (Scope 2 location-based + Scope 3 category 1; market-based
likewise): scopes are added only in the totals, never into a Scope 2 figure. ESRS E1-5 style:
the energy the organisation consumed (Scope 2 facility MWh), of which from renewable sources
(the renewable contractual instruments' allocation) and the rest.

Energy cost is summed per scope and currency (never across currencies): a quarter locked
before cost was reported has none ("not computed when locked"), nor has its year.
"""

from collections import defaultdict
from dataclasses import dataclass

from accounts.principal import Principal
from greenai_portal import periods
from greenai_portal.errors import ApplicationError
from greenai_portal.fiscal_years import FiscalYear, UnsupportedStartMonth, fiscal_year
from reports.scope2_document import NOT_COMPUTED
from reports.scope2_selectors import scope2_document

# The figures of a quarter, a year and a comparison, in this order (tables, XLSX, PDF).
FIGURES = (
    ("scope2_location_t", "Scope 2, location-based (t CO2e)"),
    ("scope2_market_t", "Scope 2, market-based (t CO2e)"),
    ("scope3_cat1_t", "Public cloud, Scope 3 category 1 (t CO2e)"),
    ("total_location_t", "Total with Scope 2 location-based (t CO2e)"),
    ("total_market_t", "Total with Scope 2 market-based (t CO2e)"),
    ("energy_mwh", "Energy consumption (MWh)"),
    ("renewable_mwh", "of which from renewable sources (MWh)"),
    ("non_renewable_mwh", "of which from other sources (MWh)"),
    ("cloud_mwh", "Public cloud energy, not the organisation's own (MWh)"),
)
FIGURE_KEYS = tuple(key for key, _ in FIGURES)
TABLE_SECTIONS = (
    ("Greenhouse gas emissions (ESRS E1-6 style)", FIGURES[:5]),
    ("Energy (ESRS E1-5 style)", FIGURES[5:]),
)
TOTALS = frozenset({"total_location_t", "total_market_t", "energy_mwh"})
FINAL, DRAFT, TEAM_VIEW = "final", "draft", "team_view"
# The scopes whose energy cost the report gives, apart, in this order.
COST_SCOPES = (
    ("scope2", "Scope 2 energy cost"),
    ("scope3_cat1", "Public cloud energy cost (Scope 3 cat. 1)"),
)


def _quarter_figures(document: dict) -> dict:
    """One quarter's figures; market-based ones and the renewable split are None (not
    available) while part of the quarter's electricity has no market-based figure yet."""
    scope2, cloud = document["scope2"], document["scope3_cat1"]
    complete = bool(scope2.get("market_complete"))
    market_t = scope2["market_t"] if complete else None
    renewable = document["market"]["renewable_mwh"] if complete else None
    return {
        "record_count": scope2["record_count"] + cloud["record_count"],
        "scope2_location_t": scope2["location_t"],
        "scope2_market_t": market_t,
        "scope3_cat1_t": cloud["location_t"],
        "total_location_t": scope2["location_t"] + cloud["location_t"],
        "total_market_t": None if market_t is None else market_t + cloud["location_t"],
        "energy_mwh": scope2["mwh"],
        "renewable_mwh": renewable,
        "non_renewable_mwh": None if renewable is None else scope2["mwh"] - renewable,
        "cloud_mwh": cloud["mwh"],
    }


def _quarter_costs(document: dict) -> list[dict] | None:
    """A quarter's energy cost per scope and currency; None when its version was locked
    before energy cost was reported."""
    costs = []
    for scope, _ in COST_SCOPES:
        if document[scope].get("costs") is None:
            return None
        costs += [
            {"scope": scope, "currency": cost["currency"], "amount": cost["amount"]}
            for cost in document[scope]["costs"]
        ]
    return costs


def _summed_costs(rows: list[dict]) -> list[dict] | None:
    """The costs of the quarters that have data, per scope and currency; None when one of
    them has none (not computed when locked), never a sum that leaves a quarter out."""
    with_data = [row for row in rows if row["coverage"] != periods.NO_DATA]
    if any(row["costs"] is None for row in with_data):
        return None
    amounts: dict[tuple[str, str], float] = defaultdict(float)
    for row in with_data:
        for cost in row["costs"]:
            amounts[(cost["scope"], cost["currency"])] += cost["amount"]
    order = [scope for scope, _ in COST_SCOPES]
    return [
        {"scope": scope, "currency": currency, "amount": amount}
        for (scope, currency), amount in sorted(
            amounts.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
        )
    ]


def _no_figures() -> dict:
    return {"record_count": 0, **dict.fromkeys(FIGURE_KEYS)}


def _summed(rows: list[dict]) -> dict:
    """The sum of the quarters that have data; a figure one of them lacks is not available
    for the year either (None, never a sum that leaves a quarter out)."""
    with_data = [row for row in rows if row["coverage"] != periods.NO_DATA]
    if not with_data:
        return _no_figures()
    figures = {"record_count": sum(row["figures"]["record_count"] for row in with_data)}
    for key in FIGURE_KEYS:
        values = [row["figures"][key] for row in with_data]
        figures[key] = None if None in values else sum(values)
    return figures


def _year_coverage(rows: list[dict]) -> periods.Coverage:
    """Complete when every quarter is; no data when none has any; partial otherwise, saying
    which quarters fall short and why."""
    if all(row["coverage"] == periods.NO_DATA for row in rows):
        return periods.Coverage(periods.NO_DATA, "no data")
    short = [
        f"{row['label']}: {row['coverage_note']}"
        for row in rows
        if row["coverage"] != periods.COMPLETE
    ]
    if not short:
        return periods.Coverage(periods.COMPLETE, "")
    return periods.Coverage(periods.PARTIAL, "; ".join(short))


@dataclass(frozen=True)
class _Year:
    fiscal_year: FiscalYear
    quarters: list[dict]
    figures: dict
    coverage: periods.Coverage
    costs: list[dict] | None


def _read_year(principal: Principal, year: FiscalYear) -> _Year:
    quarters = []
    for fiscal_quarter in year.quarters:
        document = scope2_document(
            principal=principal, year=fiscal_quarter.year, quarter=fiscal_quarter.quarter
        )
        covered = document["periods"]["quarter"]
        coverage = covered.get("coverage", periods.COMPLETE)  # versions locked before coverage
        quarters.append(
            {
                "number": fiscal_quarter.number,
                "label": fiscal_quarter.label,
                "calendar_quarter": fiscal_quarter.period.label,
                "year": fiscal_quarter.year,
                "quarter": fiscal_quarter.quarter,
                "start": fiscal_quarter.period.start.isoformat(),
                "end": fiscal_quarter.period.end.isoformat(),
                "status": document["status"],
                "version": document["version"],
                "coverage": coverage,
                "coverage_note": covered.get("coverage_note", ""),
                "figures": (
                    _no_figures() if coverage == periods.NO_DATA else _quarter_figures(document)
                ),
                "costs": [] if coverage == periods.NO_DATA else _quarter_costs(document),
            }
        )
    return _Year(
        year, quarters, _summed(quarters), _year_coverage(quarters), _summed_costs(quarters)
    )


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return (now - before) / before * 100.0


def _comparison(current: _Year, other: _Year) -> dict:
    """The other year's figures and the change from them to the current year's, in percent:
    only between two years the data covers whole (a partial year is no trend)."""
    unlike = periods.like_for_like(
        current.coverage, current.fiscal_year.label, other.coverage, other.fiscal_year.label
    )
    return {
        **_year_meta(other.fiscal_year),
        "coverage": other.coverage.status,
        "coverage_note": other.coverage.note,
        "figures": other.figures,
        "costs": other.costs,
        "change_note": unlike,
        "change_pct": {
            key: None if unlike else _change(current.figures[key], other.figures[key])
            for key in FIGURE_KEYS
        },
    }


def _year_meta(year: FiscalYear) -> dict:
    return {
        "start_year": year.start_year,
        "label": year.label,
        "start": year.start.isoformat(),
        "end": year.end.isoformat(),
    }


def organisation_fiscal_year(principal: Principal, start_year: int) -> FiscalYear:
    """The organisation's fiscal year starting in `start_year`; refused (400) while its start
    month cannot be reported as whole quarters, or for a year outside the reported range."""
    if not periods.FIRST_YEAR <= start_year <= periods.LAST_YEAR:
        raise ApplicationError(
            f"A fiscal year from {periods.FIRST_YEAR} to {periods.LAST_YEAR}, not {start_year}",
            errors=[{"field": "fiscal_year", "message": "Out of range."}],
        )
    try:
        return fiscal_year(start_year, principal.organisation.fiscal_year_start_month)
    except UnsupportedStartMonth as exc:
        raise ApplicationError(
            f"{exc} (organisation settings)",
            errors=[{"field": "fiscal_year_start_month", "message": str(exc)}],
        ) from None


def annual_report(*, principal: Principal, start_year: int) -> dict:
    """The annual report of the fiscal year starting in `start_year`: its quarters, the year,
    the change from the previous fiscal year and from the base year, final or draft.

    Figures are in t CO2e and MWh, unrounded; None where not available (never zero).
    """
    year = organisation_fiscal_year(principal, start_year)
    current = _read_year(principal, year)
    previous = _read_year(principal, year.shifted(-1))
    organisation = principal.organisation
    base_start = organisation.base_fiscal_year
    if base_start is None:
        base = None
    elif base_start == start_year:
        base = {**_comparison(current, current), "is_this_year": True}
    else:
        base_year = _read_year(principal, year.shifted(base_start - start_year))
        base = {**_comparison(current, base_year), "is_this_year": False}
    whole = principal.sees_whole_organisation
    open_quarters = [q["label"] for q in current.quarters if q["status"] != "locked"]
    status = TEAM_VIEW if not whole else DRAFT if open_quarters else FINAL
    return {
        "organisation": {
            "id": organisation.id,
            "name": organisation.name,
            "slug": organisation.slug,
        },
        "fiscal_year": {**_year_meta(year), "start_month": year.start_month},
        "status": status,
        "open_quarters": open_quarters if whole else [],
        "teams_limited": not whole,
        "quarters": current.quarters,
        "year": {
            "coverage": current.coverage.status,
            "coverage_note": current.coverage.note,
            "figures": current.figures,
            "costs": current.costs,
        },
        "previous_year": _comparison(current, previous),
        "base_year": base,
    }


def annual_cost_rows(report: dict) -> list[dict]:
    """The energy cost rows of the annual tables (page, PDF, XLSX): one per scope and currency
    any period has (one per scope without any), each with a cell per period (quarters, the
    year, the previous year, the base year): {"amount": ...}, or {"note": ...} where the
    period has no such cost."""
    periods_shown = [
        *report["quarters"],
        report["year"],
        report["previous_year"],
        *([report["base_year"]] if report["base_year"] else []),
    ]
    keys = {
        (cost["scope"], cost["currency"])
        for period in periods_shown
        for cost in period["costs"] or ()
    }
    rows = []
    for scope, label in COST_SCOPES:
        for currency in sorted(c for key, c in keys if key == scope) or [None]:
            cells = []
            for period in periods_shown:
                amounts = {
                    (cost["scope"], cost["currency"]): cost["amount"]
                    for cost in period["costs"] or ()
                }
                if period["coverage"] == periods.NO_DATA:
                    cells.append({"note": "no data"})
                elif period["costs"] is None:
                    cells.append({"note": NOT_COMPUTED})
                elif (scope, currency) in amounts:
                    cells.append({"amount": amounts[(scope, currency)]})
                else:
                    cells.append({"note": "not available"})
            rows.append(
                {
                    "key": f"{scope}:{currency or ''}",
                    "label": f"{label} ({currency})" if currency else label,
                    "cells": cells,
                }
            )
    return rows
