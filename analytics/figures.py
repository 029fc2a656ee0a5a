"""Plotly figures as pure functions: selector data in, figure JSON out (rendered by Plotly's own JS)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from analytics.selectors.overview import HostelComparison

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
    "height": 320,
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


def to_json(figure: go.Figure) -> str:
    """Figure JSON that is safe inside a <script> element (no "<" can close it)."""
    return json.dumps(figure.to_plotly_json(), cls=PlotlyJSONEncoder).replace("<", "\\u003c")


def daily_consumption_figure(rows: Sequence[dict[str, Any]], *, title: str = "Consumption per day") -> go.Figure:
    """Stacked bars of kWh per local day, one colour per hostel."""
    by_hostel: dict[str, tuple[list[Any], list[float]]] = defaultdict(lambda: ([], []))
    for row in rows:
        days, values = by_hostel[row["hostel"]]
        days.append(row["day"])
        values.append(round(row["kwh"], 2))
    figure = go.Figure([go.Bar(name=name, x=days, y=values) for name, (days, values) in sorted(by_hostel.items())])
    figure.update_layout(barmode="stack", title=title, yaxis_title="kWh", **_LAYOUT)
    return figure


def hourly_load_figure(rows: Sequence[dict[str, Any]], *, title: str = "Load, last 48 hours") -> go.Figure:
    figure = go.Figure(
        go.Scatter(x=[row["hour"] for row in rows], y=[round(row["kwh"], 2) for row in rows], mode="lines", name="kWh")
    )
    figure.update_layout(title=title, yaxis_title="kWh per hour", **_LAYOUT)
    return figure


def hostel_comparison_figure(rows: Sequence[HostelComparison]) -> go.Figure:
    """kWh per occupied bed and day, so hostels of different sizes and occupancy compare fairly."""
    shown = [row for row in rows if row.kwh_per_occupied_bed_day is not None]
    figure = go.Figure(
        go.Bar(
            x=[row.name for row in shown],
            y=[round(row.kwh_per_occupied_bed_day or 0.0, 3) for row in shown],
            text=[f"{row.occupied_beds}/{row.beds} beds occupied" for row in shown],
            name="kWh per occupied bed per day",
        )
    )
    figure.update_layout(title="kWh per occupied bed per day", yaxis_title="kWh", **_LAYOUT)
    return figure


def forecast_band_figure(points: Sequence[Any], *, title: str) -> go.Figure:
    """Forecast with its 5-95 % interval as a shaded band, and the actual where known."""
    targets = [p.target for p in points]
    figure = go.Figure(
        [
            go.Scatter(
                x=targets,
                y=[round(p.upper, 2) for p in points],
                mode="lines",
                line={"width": 0},
                name="95 %",
                showlegend=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=targets,
                y=[round(p.lower, 2) for p in points],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(37,99,235,0.18)",
                name="5-95 % interval",
            ),
            go.Scatter(
                x=targets,
                y=[round(p.yhat, 2) for p in points],
                mode="lines",
                name="Forecast",
                line={"color": "#2563eb"},
            ),
            go.Scatter(
                x=[p.target for p in points if p.actual is not None],
                y=[round(p.actual, 2) for p in points if p.actual is not None],
                mode="lines+markers",
                marker={"size": 3},
                name="Actual",
                line={"color": "#ea580c"},
            ),
        ]
    )
    figure.update_layout(title=title, yaxis_title="kWh per hour", **_LAYOUT)
    return figure
