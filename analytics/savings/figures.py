"""The intervention's chart: baseline against actual per day, and the savings summed since the change."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.figures import _LAYOUT, label
from analytics.savings.model import SavingsResult


def savings_figure(result: SavingsResult, *, title: str) -> go.Figure:
    """Top: daily kWh the baseline expected and what was used. Bottom: cumulative avoided kWh."""
    days = [day.date().isoformat() for day in result.daily.index]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.08)
    figure.add_trace(
        go.Scatter(x=days, y=result.daily["baseline_kwh"].round(2).tolist(), name="Baseline (expected)", mode="lines"),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(x=days, y=result.daily["actual_kwh"].round(2).tolist(), name="Actual", mode="lines"), row=1, col=1
    )
    figure.add_trace(
        go.Scatter(
            x=days,
            y=result.daily["cumulative_savings_kwh"].round(1).tolist(),
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
