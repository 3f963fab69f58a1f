"""Plotly figures, built server-side as JSON and drawn by the app's own plotly.js."""

from datetime import date

import plotly.graph_objects as go

from reports import svg_charts
from reports.palette import SCOPE2_LOCATION, SCOPE2_MARKET, TREND_COLUMNS, TREND_LINES, colour
from reports.plotly_text import plotly_text

# --- Scope 2 report figures (page: plotly.js; PDF: the same charts as SVG, svg_charts) ------

_LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
    "legend": {"orientation": "h", "y": -0.2},
    "template": "plotly_white",
    "font": {"family": "DejaVu Sans, sans-serif", "size": 11},
}


def scope2_trend_figure(trend: list[dict]) -> go.Figure:
    """Monthly Scope 2 location- vs market-based t CO2e, public cloud beside it (not added)."""
    months = [row["month"] for row in trend]
    columns = [
        go.Bar(name=s.label, x=months, y=[r[s.key] for r in trend], marker_color=s.colour)
        for s in TREND_COLUMNS
    ]
    lines = [
        go.Scatter(
            name=s.label,
            x=months,
            y=[r[s.key] for r in trend],
            mode="lines+markers",
            line={"color": s.colour},
        )
        for s in TREND_LINES
    ]
    figure = go.Figure([*columns, *lines])
    figure.update_layout(
        barmode="group", yaxis_title="t CO2e", title="Emissions by month", height=340, **_LAYOUT
    )
    return figure


def coverage_figure(market: dict) -> go.Figure:
    """How Scope 2 consumption was covered for the market-based method, in % of MWh."""
    figure = go.Figure(
        [
            go.Bar(
                name=category["label"],
                y=["Scope 2 MWh"],
                x=[category["share"] * 100.0],
                orientation="h",
                hovertemplate=category["label"] + ": %{x:.1f} %<extra></extra>",
                marker_color=colour(category["key"], index),
            )
            for index, category in enumerate(market["categories"])
        ]
    )
    figure.update_layout(
        barmode="stack",
        xaxis={"title": "% of Scope 2 consumption", "range": [0, 100]},
        title="Market-based coverage",
        height=240,
        **{**_LAYOUT, "legend": {"orientation": "h", "y": -0.6}},
    )
    return figure


# A Scope 2 breakdown's bars: location- and market-based side by side.
_BREAKDOWN_SERIES = (("location-based", SCOPE2_LOCATION), ("market-based", SCOPE2_MARKET))


def breakdown_figure(lines: list[dict], title: str, top: int = 12) -> go.Figure:
    """The largest lines of a breakdown, location- and market-based side by side."""
    shown = lines[:top][::-1]
    labels = [plotly_text(line["label"]) for line in shown]
    figure = go.Figure(
        [
            go.Bar(
                name=basis,
                y=labels,
                x=[line[series.figure.key] for line in shown],
                orientation="h",
                marker_color=series.colour,
            )
            for basis, series in _BREAKDOWN_SERIES
        ]
    )
    figure.update_layout(
        barmode="group",
        xaxis_title="t CO2e",
        title=title if len(lines) <= top else f"{title} (largest {top} of {len(lines)})",
        height=120 + 28 * max(len(shown), 1),
        **_LAYOUT,
    )
    return figure


def report_trend(document: dict) -> list[dict]:
    """The document's trend up to its quarter's end: versions locked before the trend ended
    there carry later months, which are not the quarter's to show."""
    end = document["period"]["end"][:7]
    return [row for row in document["trend"] if row["month"] < end]


def report_figures(document: dict) -> dict[str, go.Figure]:
    return {
        "trend": scope2_trend_figure(report_trend(document)),
        "coverage": coverage_figure(document["market"]),
        "teams": breakdown_figure(document["breakdowns"]["team"], "Scope 2 by team"),
        "models": breakdown_figure(document["breakdowns"]["model"], "Scope 2 by model"),
    }


def report_svgs(document: dict, top: int = 12) -> dict[str, str]:
    """The same four charts as report_figures, as SVG for the audit PDF."""
    trend = report_trend(document)
    months = [date.fromisoformat(row["month"] + "-01").strftime("%b %Y") for row in trend]
    categories = document["market"]["categories"]
    drawn = {
        "trend": svg_charts.column_chart(
            months,
            [(s.label, [r[s.key] for r in trend]) for s in TREND_COLUMNS],
            [(s.label, [r[s.key] for r in trend]) for s in TREND_LINES],
            title="Emissions by month",
            y_title="t CO2e",
            label_every=3,
            colours=[s.colour for s in (*TREND_COLUMNS, *TREND_LINES)],
        ),
        "coverage": svg_charts.share_bar(
            [(c["label"], c["share"]) for c in categories],
            title="Market-based coverage",
            x_title="% of Scope 2 consumption",
            colours=[colour(c["key"], index) for index, c in enumerate(categories)],
        ),
    }
    for name, key, title in (
        ("teams", "team", "Scope 2 by team"),
        ("models", "model", "Scope 2 by model"),
    ):
        lines = document["breakdowns"][key]
        shown = lines[:top]
        drawn[name] = svg_charts.bar_chart(
            [line["label"] for line in shown],
            [(basis, [line[s.figure.key] for line in shown]) for basis, s in _BREAKDOWN_SERIES],
            title=title if len(lines) <= top else f"{title} (largest {top} of {len(lines)})",
            x_title="t CO2e",
            colours=[s.colour for _, s in _BREAKDOWN_SERIES],
        )
    return drawn
