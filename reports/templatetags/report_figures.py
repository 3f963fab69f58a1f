"""The report tables' (page and PDF) columns for figures beyond those they lay out by hand,
and the rows of the energy cost tables (Scope 2 report and annual report).

The includes under templates/reports/includes/ lay out records, energy and the location- and
market-based emissions by hand; every other figure of a scope's totals (inventory.figures)
gets a column after them, headed and formatted from its declaration. Energy cost is per
currency (never added across currencies), so it has a table of its own (cost_table.html).
"""

from django import template

from inventory.calculation.emissions import Scope
from inventory.figures import (
    ENERGY_COST,
    FACILITY_ENERGY,
    FIGURES,
    IT_ENERGY,
    LOCATION_EMISSIONS,
    MARKET_EMISSIONS,
    RECORD_COUNT,
    Figure,
)
from reports.annual import annual_cost_rows
from reports.scope2_document import NOT_COMPUTED

register = template.Library()

LAID_OUT = frozenset(
    f.key for f in (RECORD_COUNT, IT_ENERGY, FACILITY_ENERGY, LOCATION_EMISSIONS, MARKET_EMISSIONS)
)


@register.simple_tag
def more_figures() -> list[Figure]:
    """The figures of a scope's totals the tables do not lay out by hand, in display order."""
    return [figure for figure in FIGURES if figure.in_totals and figure.key not in LAID_OUT]


@register.simple_tag
def figure_heading(figure: Figure) -> str:
    return f"{figure.label} ({figure.shown_unit})"


@register.simple_tag
def figure_cell(line: dict, figure: Figure, scope: str = Scope.SCOPE2) -> str:
    """A line's figure as a table shows it: a version locked before the figure existed has
    none ("not computed when locked"), and a missing figure is never shown as 0."""
    if scope not in figure.scopes:
        return "not applicable"
    if figure.key not in line:
        return NOT_COMPUTED
    value = line[figure.key]
    if value is None:
        return "not available"
    return f"{value:,.{figure.decimals}f}"


def _cost_rows(line: dict, label: str, scope: str, total: bool) -> list[dict]:
    """A line's rows of the cost table: one per currency, the line's label on the first; a
    line without a cost is not available, one of a version locked before cost was reported
    was not computed when locked (never 0)."""
    costs = line.get("costs")
    base = {"scope": scope, "key": line.get("key", "total"), "total": total}
    if not costs:
        note = NOT_COMPUTED if costs is None else "not available"
        return [{**base, "label": label, "note": note}]
    energy = f"{line['costed_mwh']:,.{FACILITY_ENERGY.decimals}f} of "
    energy += f"{line['mwh']:,.{FACILITY_ENERGY.decimals}f}"
    return [
        {
            **base,
            "label": "" if index else label,
            "currency": cost["currency"],
            "amount": f"{cost['amount']:,.{ENERGY_COST.decimals}f}",
            "mwh": f"{cost['mwh']:,.{FACILITY_ENERGY.decimals}f}",
            "records": f"{cost['record_count']:,}",
            "kg_per_unit": "n/a"
            if cost["location_kg_per_unit"] is None
            else f"{cost['location_kg_per_unit']:,.3f}",
            "costed": "" if index else energy,
        }
        for index, cost in enumerate(costs)
    ]


@register.simple_tag
def cost_table_rows(doc: dict) -> list[dict]:
    """The energy cost table: Scope 2's total and facilities, then public cloud's total and
    regions (Scope 3 category 1, beside Scope 2, never added to it)."""
    cloud = doc["scope3_cat1"]
    return [
        *_cost_rows(doc["scope2"], "Scope 2 total", Scope.SCOPE2, True),
        *(
            row
            for line in doc["breakdowns"]["location"]
            for row in _cost_rows(line, line["label"], Scope.SCOPE2, False)
        ),
        *_cost_rows(cloud, "Public cloud total (Scope 3 cat. 1)", Scope.SCOPE3_CAT1, True),
        *(
            row
            for line in cloud["by_location"]
            for row in _cost_rows(line, line["label"], Scope.SCOPE3_CAT1, False)
        ),
    ]


register.simple_tag(annual_cost_rows)
