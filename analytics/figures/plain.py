"""The charts every dashboard request draws, built as plain dicts (`PlainFigure`), and figure JSON for all charts.

docs/decisions/0007-dashboard-charts-as-plain-dicts.md: the daily bars, the 48-hour load and the hostel
comparison; every other chart is built with `plotly.graph_objects` (`analytics.figures.objects`).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from analytics.figures.base import _LAYOUT, _local, _time_axis, label
from analytics.selectors.overview import HostelComparison


class PlainFigure:
    """A figure as Plotly.js reads it ({"data": [...], "layout": {...}}), built from plain dicts.

    `plotly.graph_objects` validates every property as it is set and copies the default template into each
    figure: the dashboard's three charts took 27 ms a request that way (25 halls x 14 days of bars, warm),
    these dicts 1.2 ms (issue 29). The JSON is the one the validating objects give for the same properties
    (the default template included, one dict shared by every figure: read it, never change it; test_figures
    checks them against plotly's objects). For the charts every dashboard request draws; the others still
    use `plotly.graph_objects`.
    """

    def __init__(self, data: list[dict[str, Any]]) -> None:
        self.data = data
        self.layout: dict[str, Any] = {}

    def add_annotation(self, **annotation: Any) -> None:
        self.layout.setdefault("annotations", []).append(annotation)

    def update_layout(self, **layout: Any) -> None:
        if isinstance(layout.get("title"), str):  # as plotly's Layout writes a title (Plotly.js 3 reads no other)
            layout["title"] = {"text": layout["title"]}
        self.layout.update(copy.deepcopy(layout))  # not the shared _LAYOUT's own dicts

    def to_plotly_json(self) -> dict[str, Any]:
        return {"data": self.data, "layout": {**self.layout, "template": _template()}}


@functools.cache
def _template() -> dict[str, Any]:
    """The default template, as `plotly.graph_objects.Figure` puts it into each figure's layout."""
    return go.Figure().to_plotly_json()["layout"]["template"]


def _trace(kind: str, **properties: Any) -> dict[str, Any]:
    return {"type": kind, **properties}


def _plain(value: Any) -> Any:
    """Dates and times as PlotlyJSONEncoder writes them (ISO 8601)."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(figure: go.Figure | PlainFigure) -> str:
    """Figure JSON that is safe inside a <script> element (no "<" can close it)."""
    if isinstance(figure, PlainFigure):
        try:
            return _safe(json.dumps(figure.to_plotly_json(), default=_plain, allow_nan=False))
        except ValueError:  # a NaN or an infinity: PlotlyJSONEncoder writes them as null
            pass
    return _safe(json.dumps(figure.to_plotly_json(), cls=PlotlyJSONEncoder))


def _safe(text: str) -> str:
    return text.replace("<", "\\u003c")


def daily_consumption_figure(
    rows: Sequence[dict[str, Any]], *, title: str = "Consumption per day", now: dt.datetime | None = None
) -> PlainFigure:
    """Stacked bars of kWh per local day, one colour per hostel. Today's bar (`now` in the site's local time)
    is hatched and says it is the day so far, to what time: it is not a full day."""
    today = now.date() if now is not None else None
    by_hostel: dict[str, tuple[list[Any], list[float]]] = defaultdict(lambda: ([], []))
    for row in rows:
        days, values = by_hostel[row["hostel"]]
        days.append(row["day"])
        values.append(round(row["kwh"], 2))
    so_far = f"today so far (to {now:%H:%M})" if now is not None else ""
    figure = PlainFigure(
        [
            _trace(
                "bar",
                name=label(name),
                x=days,
                y=values,
                marker={"pattern": {"shape": ["/" if day == today else "" for day in days]}},
                customdata=[f" · {so_far}" if day == today else "" for day in days],
                hovertemplate="%{y:,.1f} kWh%{customdata}<extra>%{fullData.name}</extra>",
            )
            for name, (days, values) in sorted(by_hostel.items())
        ]
    )
    today_kwh = [round(row["kwh"], 2) for row in rows if row["day"] == today]
    if today_kwh:
        # Two short lines: one wide line over the last bar runs into the day before it.
        note = f"Today so far<br>(to {now:%H:%M})" if now is not None else ""
        figure.add_annotation(x=today, y=sum(today_kwh), text=note, showarrow=False, yanchor="bottom")
    figure.update_layout(
        barmode="stack",
        title=label(title),
        yaxis={"title": {"text": "kWh per day"}, "rangemode": "tozero", "hoverformat": ",.1f"},
        xaxis={"title": {"text": "Local day"}},
        **_LAYOUT,
    )
    return figure


KWH_HOVER = "%{y:,.3f} kWh<extra>%{fullData.name}</extra>"


def hourly_load_figure(
    rows: Sequence[dict[str, Any]], *, now: Any, zone: Any, title: str = "Load, last 48 hours"
) -> PlainFigure:
    """kWh per hour in local time; an hour still running is drawn apart and says how much of it has passed."""
    complete = [row for row in rows if row["hour"] + dt.timedelta(hours=1) <= now]
    partial = [row for row in rows if row["hour"] + dt.timedelta(hours=1) > now]
    traces = [
        _trace(
            "scatter",
            x=_local([row["hour"] for row in complete], zone),
            y=[round(row["kwh"], 3) for row in complete],
            mode="lines",
            name="kWh per hour",
            hovertemplate=KWH_HOVER,
        )
    ]
    if partial:
        last = partial[-1]
        minutes = int((now - last["hour"]).total_seconds() // 60)
        joined = [*complete[-1:], last]
        traces.append(
            _trace(
                "scatter",
                x=_local([row["hour"] for row in joined], zone),
                y=[round(row["kwh"], 3) for row in joined],
                mode="lines+markers",
                line={"dash": "dot", "color": "#6b7280"},
                marker={"symbol": ["circle", "circle-open"][-len(joined) :], "size": [0, 9][-len(joined) :]},
                name=f"This hour so far ({minutes} min)",
                hovertemplate=KWH_HOVER,
            )
        )
    figure = PlainFigure(traces)
    figure.update_layout(
        title=label(title),
        yaxis={"title": {"text": "kWh per hour"}, "rangemode": "tozero", "tickformat": ",~r"},
        xaxis=_time_axis(zone),
        **_LAYOUT,
    )
    return figure


def hostel_comparison_figure(rows: Sequence[HostelComparison]) -> PlainFigure:
    """kWh per occupied bed and day, as metered and in average weather, so hostels of different sizes,
    occupancy and weeks compare fairly."""
    shown = [row for row in rows if row.kwh_per_occupied_bed_day is not None]
    bars = [
        _trace(
            "bar",
            x=[label(row.name) for row in shown],
            y=[round(row.kwh_per_occupied_bed_day or 0.0, 3) for row in shown],
            text=[f"{row.occupied_beds}/{row.beds} beds occupied" for row in shown],
            name="as metered",
        )
    ]
    normalized = [row for row in shown if row.kwh_per_occupied_bed_day_weather is not None]
    if normalized:
        bars.append(
            _trace(
                "bar",
                x=[label(row.name) for row in normalized],
                y=[round(row.kwh_per_occupied_bed_day_weather or 0.0, 3) for row in normalized],
                name="in average weather",
            )
        )
    figure = PlainFigure(bars)
    figure.update_layout(
        title="kWh per occupied bed per day",
        yaxis={"title": {"text": "kWh per occupied bed per day"}, "rangemode": "tozero", "hoverformat": ".3f"},
        barmode="group",
        **_LAYOUT,
    )
    return figure
