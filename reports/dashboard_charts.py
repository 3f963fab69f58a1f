"""Dashboard charts: each one is a table (downloadable as CSV) and the Plotly figure drawn from it.

Figures are plain dicts in Plotly's JSON schema, drawn by the app's plotly.js: building them
without plotly.graph_objects' validation keeps a page with six charts well under a millisecond
of chart work per chart.
"""

from dataclasses import dataclass, field
from datetime import date

from greenai_portal.spreadsheets import csv_text
from reports.plotly_text import plotly_text
from reports.selectors import Sums

# Okabe-Ito and Tol colours: distinguishable with the common colour-vision deficiencies.
PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#332288",
    "#117733",
    "#AA4499",
    "#882255",
]
OTHER_COLOUR = "#8a949e"
# Phases and data-quality tiers keep one colour on every chart.
FIXED_COLOURS = {
    "Training": "#0072B2",
    "Fine-tuning": "#E69F00",
    "Inference": "#009E73",
    "Other": "#CC79A7",
    "Measured energy": "#009E73",
    "Metered power": "#56B4E9",
    "Modelled from hardware": "#D55E00",
}


def colour(label: str, index: int) -> str:
    return FIXED_COLOURS.get(label) or PALETTE[index % len(PALETTE)]


MAX_SERIES = 9  # more than this are summed as "Other", so the legend stays readable


def _layout(**extra) -> dict:
    axis = {"gridcolor": "#e5e9ec", "zerolinecolor": "#c5ccd3", "automargin": True}
    layout = {
        "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        "legend": {"orientation": "h", "y": -0.18},
        "height": 340,
        "xaxis": dict(axis),
        "yaxis": dict(axis),
    }
    for key, value in extra.items():
        if key in ("xaxis", "yaxis"):
            layout[key].update(value)
        else:
            layout[key] = value
    return layout


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Chart:
    id: str
    title: str
    description: str  # what a screen reader announces for the drawn figure
    columns: list[str]
    rows: list[list]
    figure: dict = field(default_factory=dict)
    download_url: str = ""
    wide: bool = True  # takes the full width of the page; donuts sit two to a row

    def csv(self) -> str:
        return csv_text([self.columns, *self.rows])

    @property
    def json_id(self) -> str:
        return f"{self.id}-data"

    @property
    def has_data(self) -> bool:
        return bool(self.rows)


def months_between(start: date, end: date) -> list[date]:
    """First days of the months overlapping [start, end)."""
    months, month = [], start.replace(day=1)
    while month < end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _market_t(sums: Sums) -> float | None:
    """Market-based t, or None while part of the energy has no allocation yet."""
    return sums.market_kg / 1000.0 if sums.unallocated_kwh == 0 else None


def stacked_trend(
    *,
    chart_id: str,
    title: str,
    dimension: str,
    months: list[date],
    series: dict[str, dict[date, Sums]],
    urls: dict[str, str] | None = None,
) -> Chart:
    """Monthly location-based t CO2e, one stacked bar per series (largest first)."""
    totals = {
        label: sum(s.location_kg for s in by_month.values()) for label, by_month in series.items()
    }
    ordered = sorted(series, key=lambda label: (-totals[label], label))
    shown, rest = ordered[:MAX_SERIES], ordered[MAX_SERIES:]
    if len(rest) == 1:
        shown, rest = ordered, []
    x = [m.strftime("%b %Y") for m in months]
    traces = []
    for i, label in enumerate(shown):
        by_month = series[label]
        url = (urls or {}).get(label)
        traces.append(
            {
                "type": "bar",
                "name": plotly_text(label),
                "x": x,
                "y": [
                    _round(by_month[m].location_kg / 1000.0) if m in by_month else 0.0
                    for m in months
                ],
                "marker": {"color": colour(label, i)},
                "customdata": [url] * len(months) if url else None,
                "hovertemplate": "%{x}<br>"
                + plotly_text(label)
                + ": %{y:.3f} t CO2e<extra></extra>",
            }
        )
    if rest:
        other = [
            sum(series[label][m].location_kg for label in rest if m in series[label]) / 1000.0
            for m in months
        ]
        traces.append(
            {
                "type": "bar",
                "name": f"Other ({len(rest)})",
                "x": x,
                "y": [_round(v) for v in other],
                "marker": {"color": OTHER_COLOUR},
                "hovertemplate": "%{x}<br>Other: %{y:.3f} t CO2e<extra></extra>",
            }
        )
    for trace in traces:
        if trace.get("customdata") is None:
            trace.pop("customdata", None)
    rows = [
        [
            month.isoformat()[:7],
            label,
            _round(series[label][month].facility_kwh / 1000.0),
            _round(series[label][month].location_kg / 1000.0),
            _round(_market_t(series[label][month])),
            series[label][month].record_count,
        ]
        for month in months
        for label in ordered
        if month in series[label]
    ]
    return Chart(
        id=chart_id,
        title=title,
        description=f"Stacked bar chart of monthly location-based emissions by {dimension}",
        columns=["month", dimension, "mwh", "location_t_co2e", "market_t_co2e", "records"],
        rows=rows,
        figure={
            "data": traces,
            "layout": _layout(
                barmode="stack", yaxis={"title": {"text": "t CO2e (location-based)"}}
            ),
        },
    )


def location_vs_market(*, months: list[date], by_month: dict[date, Sums]) -> Chart:
    """Scope 2 location- and market-based t CO2e per month (market gaps: not allocated yet)."""
    x = [m.strftime("%b %Y") for m in months]
    empty = Sums()
    location = [_round(by_month.get(m, empty).location_kg / 1000.0) for m in months]
    market = [_round(_market_t(by_month.get(m, empty))) for m in months]
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Location-based",
            "x": x,
            "y": location,
            "line": {"color": PALETTE[0], "width": 3},
            "hovertemplate": "%{x}<br>location-based: %{y:.3f} t<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Market-based",
            "x": x,
            "y": market,
            "line": {"color": PALETTE[2], "width": 3, "dash": "dash"},
            "hovertemplate": "%{x}<br>market-based: %{y:.3f} t<extra></extra>",
        },
    ]
    rows = [
        [
            m.isoformat()[:7],
            _round(by_month[m].facility_kwh / 1000.0),
            _round(by_month[m].location_kg / 1000.0),
            _round(_market_t(by_month[m])),
            _round(by_month[m].unallocated_kwh / 1000.0),
        ]
        for m in months
        if m in by_month
    ]
    return Chart(
        id="location-market",
        title="Scope 2: location-based vs market-based",
        description="Line chart of monthly Scope 2 emissions, location-based and market-based",
        columns=["month", "mwh", "location_t_co2e", "market_t_co2e", "mwh_not_yet_allocated"],
        rows=rows,
        figure={
            "data": traces,
            "layout": _layout(yaxis={"title": {"text": "t CO2e (Scope 2)"}, "rangemode": "tozero"}),
        },
    )


def ranked_bars(
    *,
    chart_id: str,
    title: str,
    dimension: str,
    lines: list[tuple[str, Sums, str | None]],
    top: int = 10,
) -> Chart:
    """The largest lines by location-based t CO2e, market-based beside them."""
    ordered = sorted(lines, key=lambda line: (-line[1].location_kg, line[0]))
    shown = ordered[:top][::-1]
    labels = [plotly_text(label) for label, _, _ in shown]
    urls = [url or "" for _, _, url in shown]
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "Location-based",
            "y": labels,
            "x": [_round(s.location_kg / 1000.0) for _, s, _ in shown],
            "customdata": urls,
            "marker": {"color": PALETTE[0]},
            "hovertemplate": "%{y}: %{x:.3f} t (location)<extra></extra>",
        },
        {
            "type": "bar",
            "orientation": "h",
            "name": "Market-based",
            "y": labels,
            "x": [_round(_market_t(s)) for _, s, _ in shown],
            "customdata": urls,
            "marker": {"color": PALETTE[2]},
            "hovertemplate": "%{y}: %{x:.3f} t (market)<extra></extra>",
        },
    ]
    rows = [
        [
            label,
            s.record_count,
            _round(s.facility_kwh / 1000.0),
            _round(s.location_kg / 1000.0),
            _round(_market_t(s)),
        ]
        for label, s, _ in ordered
    ]
    return Chart(
        id=chart_id,
        title=title if len(lines) <= top else f"{title} (largest {top} of {len(lines)})",
        description=f"Horizontal bar chart of emissions by {dimension}, largest first",
        columns=[dimension, "records", "mwh", "location_t_co2e", "market_t_co2e"],
        rows=rows,
        figure={
            "data": traces,
            "layout": _layout(
                barmode="group",
                height=130 + 34 * max(len(shown), 1),
                xaxis={"title": {"text": "t CO2e"}},
                legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                margin={"l": 10, "r": 20, "t": 30, "b": 40},
            ),
        },
    )


def split_donut(
    *, chart_id: str, title: str, dimension: str, parts: list[tuple[str, Sums]]
) -> Chart:
    """Share of facility MWh per part (phase, data-quality tier)."""
    parts = [(label, s) for label, s in parts if s.facility_kwh or s.record_count]
    total = sum(s.facility_kwh for _, s in parts)
    traces = [
        {
            "type": "pie",
            "hole": 0.55,
            "sort": False,
            "labels": [plotly_text(label) for label, _ in parts],
            "values": [_round(s.facility_kwh / 1000.0) for _, s in parts],
            "marker": {"colors": [colour(label, i) for i, (label, _) in enumerate(parts)]},
            "textinfo": "percent",
            "hovertemplate": "%{label}: %{value:.3f} MWh (%{percent})<extra></extra>",
        }
    ]
    rows = [
        [
            label,
            s.record_count,
            _round(s.facility_kwh / 1000.0),
            _round(s.facility_kwh / total if total else 0.0),
            _round(s.location_kg / 1000.0),
        ]
        for label, s in parts
    ]
    return Chart(
        id=chart_id,
        title=title,
        description=f"Donut chart of energy by {dimension}",
        wide=False,
        columns=[dimension, "records", "mwh", "share_of_mwh", "location_t_co2e"],
        rows=rows,
        figure={
            "data": traces,
            "layout": _layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10}),
        },
    )


def intensity_trend(*, months: list[date], by_month: dict[date, Sums]) -> Chart:
    """Monthly g CO2e per 1k inferences and per 1M tokens (location-based), inference rows."""
    x = [m.strftime("%b %Y") for m in months]
    empty = Sums()

    def per(sums: Sums, unit: str) -> float | None:
        if unit == "inferences":
            return sums.location_kg * 1e6 / sums.inferences if sums.inferences else None
        return sums.location_kg * 1e9 / sums.tokens if sums.tokens else None

    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "g CO2e per 1k inferences",
            "x": x,
            "y": [_round(per(by_month.get(m, empty), "inferences"), 4) for m in months],
            "line": {"color": PALETTE[0], "width": 3},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "g CO2e per 1M tokens",
            "x": x,
            "y": [_round(per(by_month.get(m, empty), "tokens"), 4) for m in months],
            "line": {"color": PALETTE[1], "width": 3, "dash": "dot"},
            "yaxis": "y2",
        },
    ]
    rows = [
        [
            m.isoformat()[:7],
            by_month[m].inferences,
            by_month[m].tokens,
            _round(by_month[m].location_kg / 1000.0),
            _round(per(by_month[m], "inferences"), 4),
            _round(per(by_month[m], "tokens"), 4),
        ]
        for m in months
        if m in by_month and (by_month[m].inferences or by_month[m].tokens)
    ]
    return Chart(
        id="intensity",
        title="Intensity of inference (location-based)",
        description="Line chart of grams CO2e per thousand inferences and per million tokens",
        columns=[
            "month",
            "inferences",
            "tokens",
            "location_t_co2e",
            "g_per_1k_inferences",
            "g_per_1m_tokens",
        ],
        rows=rows,
        figure={
            "data": traces,
            "layout": _layout(
                yaxis={"title": {"text": "g per 1k inferences"}, "rangemode": "tozero"},
                yaxis2={
                    "title": {"text": "g per 1M tokens"},
                    "overlaying": "y",
                    "side": "right",
                    "rangemode": "tozero",
                    "showgrid": False,
                },
                margin={"l": 60, "r": 60, "t": 10, "b": 40},
            ),
        },
    )
