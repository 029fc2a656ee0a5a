"""What every chart shares: the layout, escaped labels and local times on the x axis."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 50, "r": 10, "t": 60, "b": 40},
    "height": 340,
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    # Above the plot: below it, the axis title and a phone's rotated date ticks run into it.
    "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


def label(text: object) -> str:
    """Text for a figure: Plotly reads tags in labels (<a href>, <b>, <br>), so names an administrator
    typed (hostels, rooms, transformers) and explanations built from them are escaped."""
    return html.escape(str(text), quote=False)


def _time_axis(zone: Any) -> dict[str, Any]:
    """An x axis of local times that names its zone."""
    return {"title": {"text": f"Local time ({label(zone)})"}, "hoverformat": "%a %-d %b %H:%M"}


def _local(values: Sequence[Any], zone: Any) -> list[Any]:
    """Plotly.js draws wall-clock times and ignores offsets: hand it the site's local time."""
    return [value.astimezone(zone).replace(tzinfo=None) for value in values]
