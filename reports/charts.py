"""Plotly figures, built server-side as JSON and drawn by the app's own plotly.js."""

from datetime import date

import plotly.graph_objects as go

from reports import svg_charts
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
    figure = go.Figure(
        [
            go.Bar(
                name="Scope 2 location-based", x=months, y=[r["scope2_location_t"] for r in trend]
            ),
            go.Bar(name="Scope 2 market-based", x=months, y=[r["scope2_market_t"] for r in trend]),
            go.Scatter(
                name="Public cloud, Scope 3 cat. 1 (not in Scope 2)",
                x=months,
                y=[r["scope3_cat1_location_t"] for r in trend],
                mode="lines+markers",
            ),
        ]
    )
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
            )
            for category in market["categories"]
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


def breakdown_figure(lines: list[dict], title: str, top: int = 12) -> go.Figure:
    """The largest lines of a breakdown, location- and market-based side by side."""
    shown = lines[:top][::-1]
    labels = [plotly_text(line["label"]) for line in shown]
    figure = go.Figure(
        [
            go.Bar(
                name="location-based",
                y=labels,
                x=[line["location_t"] for line in shown],
                orientation="h",
            ),
            go.Bar(
                name="market-based",
                y=labels,
                x=[line["market_t"] for line in shown],
                orientation="h",
            ),
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
    drawn = {
        "trend": svg_charts.column_chart(
            months,
            [
                ("Scope 2 location-based", [r["scope2_location_t"] for r in trend]),
                ("Scope 2 market-based", [r["scope2_market_t"] for r in trend]),
            ],
            [
                (
                    "Public cloud, Scope 3 cat. 1 (not in Scope 2)",
                    [r["scope3_cat1_location_t"] for r in trend],
                )
            ],
            title="Emissions by month",
            y_title="t CO2e",
            label_every=3,
        ),
        "coverage": svg_charts.share_bar(
            [(c["label"], c["share"]) for c in document["market"]["categories"]],
            title="Market-based coverage",
            x_title="% of Scope 2 consumption",
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
            [
                ("location-based", [line["location_t"] for line in shown]),
                ("market-based", [line["market_t"] for line in shown]),
            ],
            title=title if len(lines) <= top else f"{title} (largest {top} of {len(lines)})",
            x_title="t CO2e",
        )
    return drawn
