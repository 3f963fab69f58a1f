"""Plotly figures, built server-side as JSON and drawn by the app's own plotly.js."""

from collections import defaultdict
from datetime import date

import plotly.graph_objects as go


def trend_by_team_figure(series: list[tuple[date, str, float, float]]) -> go.Figure:
    """Monthly location-based t CO2e, one stacked bar per team."""
    months = sorted({month for month, *_ in series})
    by_team: dict[str, dict[date, float]] = defaultdict(dict)
    for month, team, _kwh, kg in series:
        by_team[team][month] = kg / 1000.0
    figure = go.Figure(
        [
            go.Bar(
                name=team,
                x=[m.strftime("%b %Y") for m in months],
                y=[values.get(m, 0.0) for m in months],
                hovertemplate="%{x}<br>" + team + ": %{y:.3f} t CO2e<extra></extra>",
            )
            for team, values in sorted(by_team.items())
        ]
    )
    figure.update_layout(
        barmode="stack",
        yaxis_title="t CO2e (location-based)",
        margin={"l": 60, "r": 20, "t": 30, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        template="plotly_white",
        height=380,
    )
    return figure
