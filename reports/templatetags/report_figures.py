"""The report tables' (page and PDF) columns for figures beyond those they lay out by hand.

The includes under templates/reports/includes/ lay out records, energy and the location- and
market-based emissions by hand; every other figure of a scope's totals (inventory.figures)
gets a column after them, headed and formatted from its declaration.
"""

from django import template

from inventory.calculation.emissions import Scope
from inventory.figures import (
    FACILITY_ENERGY,
    FIGURES,
    IT_ENERGY,
    LOCATION_EMISSIONS,
    MARKET_EMISSIONS,
    RECORD_COUNT,
    Figure,
)

register = template.Library()

LAID_OUT = frozenset(
    f.key for f in (RECORD_COUNT, IT_ENERGY, FACILITY_ENERGY, LOCATION_EMISSIONS, MARKET_EMISSIONS)
)
NOT_COMPUTED = "not computed when locked"


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
