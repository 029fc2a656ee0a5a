"""Plotly figures as pure functions: selector data in, figure JSON out (rendered by Plotly's own JS).

`plain`: the dashboard's three charts as plain dicts (`PlainFigure`) and `to_json` for every chart;
`objects`: the other charts, built with `plotly.graph_objects`; `base`: the layout and helpers they share.
"""

from analytics.figures.base import label
from analytics.figures.objects import (
    NO_EXPECTED_GREY,
    alert_evidence_figure,
    forecast_band_figure,
    room_heatmap_figure,
    room_hours_figure,
    transformer_condition_figure,
)
from analytics.figures.plain import (
    KWH_HOVER,
    PlainFigure,
    daily_consumption_figure,
    hostel_comparison_figure,
    hourly_load_figure,
    to_json,
)

__all__ = [
    "KWH_HOVER",
    "NO_EXPECTED_GREY",
    "PlainFigure",
    "alert_evidence_figure",
    "daily_consumption_figure",
    "forecast_band_figure",
    "hostel_comparison_figure",
    "hourly_load_figure",
    "label",
    "room_heatmap_figure",
    "room_hours_figure",
    "to_json",
    "transformer_condition_figure",
]
