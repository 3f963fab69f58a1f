"""Dashboard charts: each one is a table (downloadable as CSV) and the Plotly figure drawn from it.

Figures are plain dicts in Plotly's JSON schema, drawn by the app's plotly.js: building them
without plotly.graph_objects' validation keeps a page with six charts well under a millisecond
of chart work per chart.
"""

from dataclasses import dataclass, field
from datetime import date

from greenai_portal.spreadsheets import csv_text
from inventory.figures import (
    FACILITY_ENERGY,
    LOCATION_EMISSIONS,
    MARKET_EMISSIONS,
    Sums,
    intensities,
)
from reports.footprint_selectors import NOT_APPLICABLE, REPORTED_SCOPES, ReportedScope
from reports.palette import OTHER, SCOPE2_LOCATION, SCOPE2_MARKET, colour, series_of
from reports.plotly_text import plotly_text

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
    return sums.shown(MARKET_EMISSIONS) if sums.unallocated_kwh == 0 else None


def scope_figures(sums: Sums, scope: ReportedScope) -> dict:
    """One scope's figures of a line, in MWh, t and g; a market-based figure only where
    the scope has one (public cloud's rollups carry a market_kg that is its location one)."""
    return {
        "key": scope.key,
        "label": scope.label,
        "records": sums.record_count,
        "mwh": sums.shown(FACILITY_ENERGY),
        "location_t": sums.shown(LOCATION_EMISSIONS),
        "market_based": scope.market_based,
        "market_t": _market_t(sums) if scope.market_based else None,
        "inferences": sums.inferences,
        "tokens": sums.tokens,
        **intensities(sums.location_kg, sums),
    }


def scopes_apart(by_scope: dict[str, Sums]) -> list[dict]:
    """scope_figures of every reported scope, in REPORTED_SCOPES order."""
    return [scope_figures(by_scope.get(s.key, Sums()), s) for s in REPORTED_SCOPES]


# CSV columns of a line's figures, scope by scope.
SCOPE_COLUMNS = [
    f"{scope.key}_{figure}"
    for scope in REPORTED_SCOPES
    for figure in ("mwh", "location_t_co2e", "market_t_co2e")
]


def _scope_cells(by_scope: dict[str, Sums]) -> list:
    cells = []
    for figures in scopes_apart(by_scope):
        market = _round(figures["market_t"]) if figures["market_based"] else NOT_APPLICABLE
        cells += [_round(figures["mwh"]), _round(figures["location_t"]), market]
    return cells


def stacked_trend(
    *,
    chart_id: str,
    title: str,
    dimension: str,
    scope: ReportedScope,
    months: list[date],
    series: dict[str, dict[date, Sums]],
    urls: dict[str, str] | None = None,
) -> Chart:
    """Monthly location-based t CO2e of one scope, one stacked bar per series (largest
    first); a month without records is a gap, not a zero."""
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
                    _round(by_month[m].shown(LOCATION_EMISSIONS)) if m in by_month else None
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
            [series[label][m].location_kg for label in rest if m in series[label]] for m in months
        ]
        traces.append(
            {
                "type": "bar",
                "name": f"Other ({len(rest)})",
                "x": x,
                "y": [_round(LOCATION_EMISSIONS.shown(sum(kgs))) if kgs else None for kgs in other],
                "marker": {"color": OTHER},
                "hovertemplate": "%{x}<br>Other: %{y:.3f} t CO2e<extra></extra>",
            }
        )
    for trace in traces:
        if trace.get("customdata") is None:
            trace.pop("customdata", None)

    def market(sums: Sums):
        return _round(_market_t(sums)) if scope.market_based else NOT_APPLICABLE

    rows = [
        [
            month.isoformat()[:7],
            label,
            _round(series[label][month].shown(FACILITY_ENERGY)),
            _round(series[label][month].shown(LOCATION_EMISSIONS)),
            market(series[label][month]),
            series[label][month].record_count,
        ]
        for month in months
        for label in ordered
        if month in series[label]
    ]
    return Chart(
        id=chart_id,
        title=title,
        description=f"Stacked bar chart of monthly {scope.label} location-based emissions"
        f" by {dimension}",
        columns=["month", dimension, "mwh", "location_t_co2e", "market_t_co2e", "records"],
        rows=rows,
        figure={
            "data": traces,
            "layout": _layout(
                barmode="stack",
                yaxis={"title": {"text": "t CO2e (location-based)"}},
            ),
        },
    )


def location_vs_market(*, months: list[date], by_month: dict[date, Sums]) -> Chart:
    """Scope 2 location- and market-based t CO2e per month (market gaps: not allocated yet)."""
    x = [m.strftime("%b %Y") for m in months]
    # A month without records is a gap in the lines, not a zero.
    location = [
        _round(by_month[m].shown(LOCATION_EMISSIONS)) if m in by_month else None for m in months
    ]
    market = [_round(_market_t(by_month[m])) if m in by_month else None for m in months]
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Location-based",
            "x": x,
            "y": location,
            "line": {"color": SCOPE2_LOCATION.colour, "width": 3},
            "hovertemplate": "%{x}<br>location-based: %{y:.3f} t<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Market-based",
            "x": x,
            "y": market,
            "line": {"color": SCOPE2_MARKET.colour, "width": 3, "dash": SCOPE2_MARKET.dash},
            "hovertemplate": "%{x}<br>market-based: %{y:.3f} t<extra></extra>",
        },
    ]
    rows = [
        [
            m.isoformat()[:7],
            _round(by_month[m].shown(FACILITY_ENERGY)),
            _round(by_month[m].shown(LOCATION_EMISSIONS)),
            _round(_market_t(by_month[m])),
            _round(FACILITY_ENERGY.shown(by_month[m].unallocated_kwh)),
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
    lines: list[tuple[str, dict[str, Sums], str | None]],
    top: int = 10,
) -> Chart:
    """The lines using the most energy: each scope's location-based t CO2e, and Scope 2's
    market-based, as bars side by side (never stacked: scopes are not added)."""

    def energy(by_scope: dict[str, Sums]) -> float:
        return sum(sums.facility_kwh for sums in by_scope.values())

    ordered = sorted(lines, key=lambda line: (-energy(line[1]), line[0]))
    shown = ordered[:top][::-1]
    labels = [plotly_text(label) for label, _, _ in shown]
    urls = [url or "" for _, _, url in shown]
    figures = [scopes_apart(by_scope) for _, by_scope, _ in shown]
    traces = []
    for i, scope in enumerate(REPORTED_SCOPES):
        bases = ("location", "market") if scope.market_based else ("location",)
        for basis in bases:
            name = f"{scope.label}, {basis}-based"
            figure = MARKET_EMISSIONS if basis == "market" else LOCATION_EMISSIONS
            traces.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": name,
                    "y": labels,
                    "x": [_round(line[i][f"{basis}_t"]) for line in figures],
                    "customdata": urls,
                    "marker": {"color": series_of(scope.key, figure).colour},
                    "hovertemplate": "%{y}: %{x:.3f} t (" + name + ")<extra></extra>",
                }
            )
    rows = [
        [label, sum(s.record_count for s in by_scope.values()), *_scope_cells(by_scope)]
        for label, by_scope, _ in ordered
    ]
    return Chart(
        id=chart_id,
        title=title if len(lines) <= top else f"{title} (largest {top} of {len(lines)})",
        description=f"Horizontal bar chart of emissions by {dimension} and scope",
        columns=[dimension, "records", *SCOPE_COLUMNS],
        rows=rows,
        figure={
            "data": traces,
            "layout": _layout(
                barmode="group",
                height=130 + 20 * len(traces) * max(len(shown), 1),
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
            "values": [_round(s.shown(FACILITY_ENERGY)) for _, s in parts],
            "marker": {"colors": [colour(label, i) for i, (label, _) in enumerate(parts)]},
            "textinfo": "percent",
            "hovertemplate": "%{label}: %{value:.3f} MWh (%{percent})<extra></extra>",
        }
    ]
    rows = [
        [
            label,
            s.record_count,
            _round(s.shown(FACILITY_ENERGY)),
            _round(s.facility_kwh / total if total else 0.0),
        ]
        for label, s in parts
    ]
    return Chart(
        id=chart_id,
        title=title,
        description=f"Donut chart of energy by {dimension}",
        wide=False,
        columns=[dimension, "records", "mwh", "share_of_mwh"],
        rows=rows,
        figure={
            "data": traces,
            "layout": _layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10}),
        },
    )


def intensity_trend(*, months: list[date], by_month: dict[date, dict[str, Sums]]) -> Chart:
    """Monthly g CO2e per 1k inferences and per 1M tokens (location-based) of inference
    rows, one line per scope with counts (a scope's grams over its own counts)."""
    x = [m.strftime("%b %Y") for m in months]
    figures = {m: scopes_apart(by_scope) for m, by_scope in by_month.items()}
    traces = []
    for i, scope in enumerate(REPORTED_SCOPES):
        # A scope's colour; its two units told apart by the line's dash.
        colour_of_scope = series_of(scope.key, LOCATION_EMISSIONS).colour
        counted = [m for m in months if m in figures and figures[m][i]["g_per_1k_inferences"]]
        tokened = [m for m in months if m in figures and figures[m][i]["g_per_1m_tokens"]]
        for unit, wanted, axis, dash in (
            ("1k inferences", counted, "y", "solid"),
            ("1M tokens", tokened, "y2", "dot"),
        ):
            if not wanted:
                continue
            key = "g_per_1k_inferences" if axis == "y" else "g_per_1m_tokens"
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": f"{scope.label}: g CO2e per {unit}",
                    "x": x,
                    "y": [_round(figures[m][i][key], 4) if m in wanted else None for m in months],
                    "line": {"color": colour_of_scope, "width": 3, "dash": dash},
                    "yaxis": axis,
                }
            )
    rows = [
        [
            m.isoformat()[:7],
            scope["key"],
            scope["inferences"],
            scope["tokens"],
            _round(scope["location_t"]),
            _round(scope["g_per_1k_inferences"], 4),
            _round(scope["g_per_1m_tokens"], 4),
        ]
        for m in months
        for scope in figures.get(m, [])
        if scope["inferences"] or scope["tokens"]
    ]
    return Chart(
        id="intensity",
        title="Intensity of inference (location-based), per scope",
        description="Line chart of grams CO2e per thousand inferences and per million tokens",
        columns=[
            "month",
            "scope",
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
