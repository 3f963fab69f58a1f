"""One chart vocabulary and one palette for the pages (Plotly) and the audit PDF (SVG).

Colours are Okabe & Ito's "Color Universal Design" set (2008) and Paul Tol's muted scheme:
distinguishable with the common colour-vision deficiencies. A series that means one thing
(Scope 2 location-based emissions, a phase, a market-based coverage category) has one colour
on every chart; other series take CATEGORICAL colours in order.
"""

from dataclasses import dataclass

from inventory.calculation.emissions import Scope
from inventory.figures import FACILITY_ENERGY, LOCATION_EMISSIONS, MARKET_EMISSIONS, Figure

BLUE, ORANGE, GREEN, PINK = "#0072B2", "#E69F00", "#009E73", "#CC79A7"
SKY, VERMILLION, INDIGO, DARK_GREEN = "#56B4E9", "#D55E00", "#332288", "#117733"
PURPLE, WINE, GREY = "#AA4499", "#882255", "#8a949e"

CATEGORICAL = (BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, INDIGO, DARK_GREEN, PURPLE, WINE)
OTHER = GREY  # the sum of the series past the ones a chart names

# Phases, data-quality tiers and market-based coverage categories (by label and by key) keep
# one colour on every chart.
FIXED = {
    "Training": BLUE,
    "Fine-tuning": ORANGE,
    "Inference": GREEN,
    "Other": PINK,
    "Measured energy": GREEN,
    "Metered power": SKY,
    "Modelled from hardware": VERMILLION,
    # inventory.models.InstrumentKind and MarketBasis keys
    "eac": GREEN,
    "ppa": DARK_GREEN,
    "green_tariff": SKY,
    "supplier_specific": PURPLE,
    "residual_mix": GREY,
    "grid_average": VERMILLION,
}


def colour(label: str, index: int) -> str:
    """A series' colour: its fixed one, else the index-th categorical colour."""
    return FIXED.get(label) or CATEGORICAL[index % len(CATEGORICAL)]


@dataclass(frozen=True)
class ChartSeries:
    """A figure of one scope drawn as a series: the same label and colour on every chart.

    `key` is the figure's name in the report document's trend (`scope2_location_t`).
    """

    scope: str
    figure: Figure
    label: str
    colour: str
    dash: str = "solid"

    @property
    def key(self) -> str:
        return f"{self.scope}_{self.figure.key}"


SCOPE2_ENERGY = ChartSeries(Scope.SCOPE2, FACILITY_ENERGY, "Scope 2 facility energy", SKY)
SCOPE2_LOCATION = ChartSeries(Scope.SCOPE2, LOCATION_EMISSIONS, "Scope 2 location-based", BLUE)
SCOPE2_MARKET = ChartSeries(
    Scope.SCOPE2, MARKET_EMISSIONS, "Scope 2 market-based", ORANGE, dash="dash"
)
CLOUD_LOCATION = ChartSeries(
    Scope.SCOPE3_CAT1,
    LOCATION_EMISSIONS,
    "Public cloud, Scope 3 cat. 1 (not in Scope 2)",
    GREEN,
)
# The report's monthly trend, in the document's order; Scope 2's emissions are drawn as
# columns, public cloud's as a line beside them (never stacked on Scope 2).
TREND_SERIES = (SCOPE2_ENERGY, SCOPE2_LOCATION, SCOPE2_MARKET, CLOUD_LOCATION)
TREND_COLUMNS = (SCOPE2_LOCATION, SCOPE2_MARKET)
TREND_LINES = (CLOUD_LOCATION,)
# Location- and market-based emissions of a scope, side by side.
EMISSIONS_SERIES = (SCOPE2_LOCATION, SCOPE2_MARKET, CLOUD_LOCATION)


def series_of(scope: str, figure: Figure) -> ChartSeries:
    """The series of a figure of a scope."""
    return next(s for s in EMISSIONS_SERIES if s.scope == scope and s.figure is figure)
