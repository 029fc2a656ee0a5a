"""The intervention's chart: baseline against actual per day, and the savings summed since the change."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.figures.base import _LAYOUT, label


def savings_figure(rows: list[dict[str, Any]], *, title: str) -> go.Figure:
    """Top: daily kWh the baseline expected and what was used. Bottom: cumulative avoided kWh.
    `rows`: the stored days (analytics.savings.services.measurement_days)."""
    days = [row["day"].isoformat() for row in rows]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.08)
    figure.add_trace(
        go.Scatter(x=days, y=[round(row["baseline_kwh"], 2) for row in rows], name="Baseline (expected)", mode="lines"),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(x=days, y=[round(row["actual_kwh"], 2) for row in rows], name="Actual", mode="lines"), row=1, col=1
    )
    figure.add_trace(
        go.Scatter(
            x=days,
            y=[round(row["cumulative_savings_kwh"], 1) for row in rows],
            name="Savings so far",
            mode="lines",
            fill="tozeroy",
        ),
        row=2,
        col=1,
    )
    layout = {**_LAYOUT, "height": 460}
    figure.update_layout(title=label(title), **layout)
    figure.update_yaxes(title_text="kWh per day", row=1, col=1)
    figure.update_yaxes(title_text="kWh saved", row=2, col=1)
    return figure
