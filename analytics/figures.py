"""Plotly figures as pure functions: selector data in, figure JSON out (rendered by Plotly's own JS)."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import html
import json
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from analytics.selectors.overview import HostelComparison

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


def _time_axis(zone: Any) -> dict[str, Any]:
    """An x axis of local times that names its zone."""
    return {"title": {"text": f"Local time ({label(zone)})"}, "hoverformat": "%a %-d %b %H:%M"}


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


def forecast_band_figure(points: Sequence[Any], *, title: str, zone: Any) -> go.Figure:
    """Forecast with its 5-95 % interval as a shaded band, and the actual where known, in local time."""
    targets = _local([p.target for p in points], zone)
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
                x=_local([p.target for p in points if p.actual is not None], zone),
                y=[round(p.actual, 2) for p in points if p.actual is not None],
                mode="lines+markers",
                marker={"size": 3},
                name="Actual",
                line={"color": "#ea580c"},
            ),
        ]
    )
    figure.update_layout(
        title=label(title),
        yaxis={"title": {"text": "kWh per hour"}, "rangemode": "tozero", "hoverformat": ",.3f"},
        xaxis=_time_axis(zone),
        **_LAYOUT,
    )
    return figure


NO_EXPECTED_GREY = "#9ca3af"


def room_heatmap_figure(rows: Sequence[Any], *, title: str = "Last 24 h against expected, by floor") -> go.Figure:
    """Rows are floors, cells are rooms, colour is % deviation from the detector's expected value; rooms without
    one grey. The hover says the room's alert or why it has none; a tap opens the alert (or the room)."""
    floors = sorted({row.floor for row in rows})
    by_floor: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_floor[row.floor].append(row)
    width = max((len(v) for v in by_floor.values()), default=0)
    z: list[list[float | None]] = []
    grey: list[list[float | None]] = []
    text: list[list[str]] = []
    hover: list[list[str]] = []
    links: list[list[str]] = []
    for floor in floors:
        cells = by_floor[floor]
        z_row: list[float | None] = []
        grey_row: list[float | None] = []
        text_row: list[str] = []
        hover_row: list[str] = []
        link_row: list[str] = []
        for i in range(width):
            if i >= len(cells):
                z_row.append(None)
                grey_row.append(None)
                text_row.append("")
                hover_row.append("")
                link_row.append("")
                continue
            cell = cells[i]
            deviation = cell.deviation_pct
            flag = " ⚠" if cell.alert else ""
            link_row.append(cell.url)
            if deviation is None:
                z_row.append(None)
                grey_row.append(1.0)
                short = "not scanned" if cell.why == "not_scanned" else "no reading"
                text_row.append(f"{label(cell.number)}{flag}<br>{short}")
                hover_row.append(f"Room {label(cell.number)}<br>{_wrap(label(cell.reason))}")
            else:
                z_row.append(round(max(-100.0, min(100.0, deviation)), 1))
                grey_row.append(None)
                text_row.append(f"{label(cell.number)}{flag}<br>{deviation:+.0f} %")
                numbers = f"{cell.actual_kwh:.1f} kWh, expected {cell.expected_kwh:.1f} ({deviation:+.0f} %)"
                reason = f"<br>{_wrap(label(cell.reason))}" if cell.reason else ""
                tap = "<br><i>Tap to open the alert</i>" if cell.alert else ""
                hover_row.append(f"Room {label(cell.number)}: {numbers}{reason}{tap}")
        z.append(z_row)
        grey.append(grey_row)
        text.append(text_row)
        hover.append(hover_row)
        links.append(link_row)
    y = [f"Floor {floor}" for floor in floors]
    x = [str(i + 1) for i in range(width)]
    figure = go.Figure(
        [
            go.Heatmap(
                z=grey,
                x=x,
                y=y,
                colorscale=[[0, NO_EXPECTED_GREY], [1, NO_EXPECTED_GREY]],
                showscale=False,
                hoverinfo="skip",
                xgap=3,
                ygap=3,
            ),
            go.Heatmap(
                z=z,
                x=x,
                y=y,
                text=text,
                texttemplate="%{text}",
                hovertext=hover,
                customdata=links,
                hovertemplate="%{hovertext}<extra></extra>",
                colorscale="RdBu",
                reversescale=True,
                zmin=-100,
                zmax=100,
                zmid=0,
                xgap=3,
                ygap=3,
                # Under the map, not beside it: on a phone a side bar takes half the width from the rooms.
                colorbar={
                    "title": {"text": "% vs expected", "side": "top"},
                    "orientation": "h",
                    "y": -0.08,
                    "yanchor": "top",
                    "len": 0.7,
                    "thickness": 10,
                },
            ),
        ]
    )
    layout = dict(_LAYOUT)
    layout["height"] = max(260, 60 * len(floors) + 140)
    layout["margin"] = {**_LAYOUT["margin"], "r": 10, "b": 70}
    figure.update_layout(title=label(title), xaxis={"showticklabels": False}, **layout)
    return figure


def _wrap(sentence: str, width: int = 60) -> str:
    """Break a long hover sentence into lines (Plotly hover labels do not wrap on their own)."""
    return "<br>".join(textwrap.wrap(sentence, width)) if sentence else ""


def room_hours_figure(points: Sequence[Any], anomalies: Sequence[Any], *, title: str, zone: Any) -> go.Figure:
    """A room's hourly kWh against its expected band, anomalies marked, outdoor temperature on a second axis; in
    the site's local time."""
    hours = _local([p.hour for p in points], zone)
    band = [p for p in points if p.low is not None]
    band_hours = _local([p.hour for p in band], zone)
    figure = go.Figure(
        [
            go.Scatter(
                x=band_hours,
                y=[round(p.high, 3) for p in band],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
                name="highest",
            ),
            go.Scatter(
                x=band_hours,
                y=[round(p.low, 3) for p in band],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(37,99,235,0.18)",
                name="Expected band (prior weeks)",
            ),
            go.Scatter(
                x=band_hours,
                y=[round(p.expected, 3) for p in band],
                mode="lines",
                line={"color": "#2563eb", "dash": "dot"},
                name="Expected",
            ),
            go.Scatter(
                x=hours,
                y=[None if p.actual is None else round(p.actual, 3) for p in points],
                mode="lines",
                line={"color": "#ea580c"},
                name="Actual",
            ),
            go.Scatter(
                x=_local([a.start for a in anomalies], zone),
                y=[0 for _ in anomalies],
                mode="markers",
                marker={"symbol": "triangle-up", "size": 12, "color": "#dc2626"},
                text=[label(a.explanation) for a in anomalies],
                hovertemplate="%{text}<extra>anomaly</extra>",
                name="Anomaly",
            ),
        ]
    )
    if any(p.temperature_c is not None for p in points):
        figure.add_trace(
            go.Scatter(
                x=hours,
                y=[p.temperature_c for p in points],
                mode="lines",
                yaxis="y2",
                line={"color": "#6b7280", "width": 1},
                name="Outdoor °C",
            )
        )
    figure.update_layout(
        title=label(title),
        yaxis={"title": {"text": "kWh per hour"}, "rangemode": "tozero", "hoverformat": ",.3f"},
        # Its own round ticks ("sync" would align them with the kWh grid: 0.2, 4.08, 7.96 °C).
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "title": {"text": "°C"},
            "showgrid": False,
            "tickmode": "auto",
            "hoverformat": ".1f",
        },
        xaxis=_time_axis(zone),
        **_LAYOUT,
    )
    return figure


def _local(values: Sequence[Any], zone: Any) -> list[Any]:
    """Plotly.js draws wall-clock times and ignores offsets: hand it the site's local time."""
    return [value.astimezone(zone).replace(tzinfo=None) for value in values]


def _shade(figure: go.Figure, spans: Sequence[tuple[Any, Any, str]], zone: Any) -> None:
    """Shade each span; one legend entry per label (annotations on the chart overlap on a phone)."""
    labelled: set[str] = set()
    for start, end, span_label in spans:
        figure.add_vrect(
            x0=start.astimezone(zone).replace(tzinfo=None),
            x1=end.astimezone(zone).replace(tzinfo=None),
            fillcolor="rgba(220,38,38,0.16)",
            line_width=0,
            layer="below",
            name=label(span_label),
            legendgroup=span_label,
            showlegend=span_label not in labelled,
        )
        labelled.add(span_label)


def alert_evidence_figure(series: Any, spans: Sequence[tuple[Any, Any, str]], *, title: str, zone: Any) -> go.Figure:
    """A meter's kWh per hour around an alert against the baseline's expected value and band; its spans shaded.

    `series` has `ts`, `actual` and, when a baseline exists, `expected`, `low` and `high` lists;
    `spans` are (start, end, label) of what was found abnormal; times are drawn in `zone`.
    """
    x = _local(series.ts, zone)
    traces: list[go.Scatter] = []
    if series.expected is not None:
        traces += [
            go.Scatter(x=x, y=series.high, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"),
            go.Scatter(
                x=x,
                y=series.low,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(37,99,235,0.18)",
                name="Expected band",
                hovertemplate="%{y:.2f} kWh/h<extra>band low</extra>",
            ),
            go.Scatter(
                x=x,
                y=series.expected,
                mode="lines",
                line={"color": "#2563eb", "dash": "dot"},
                name="Expected",
                hovertemplate="%{y:.2f} kWh/h<extra>expected</extra>",
            ),
        ]
    traces.append(
        go.Scatter(
            x=x,
            y=series.actual,
            mode="lines",
            line={"color": "#ea580c"},
            name="Actual",
            hovertemplate="%{y:.2f} kWh/h<extra>actual</extra>",
        )
    )
    figure = go.Figure(traces)
    _shade(figure, spans, zone)
    layout = dict(_LAYOUT)
    # The legend above the plot: below it, a phone's rotated date ticks run into it.
    layout["legend"] = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}
    layout["margin"] = {"l": 50, "r": 10, "t": 60 if title else 30, "b": 40}
    figure.update_layout(
        title=label(title) if title else None,
        yaxis_title="kWh per hour",
        yaxis_rangemode="tozero",
        xaxis_automargin=True,
        **layout,
    )
    return figure


def transformer_condition_figure(
    points: Sequence[Any], spans: Sequence[tuple[Any, Any, str]], *, title: str, zone: Any, oil_alarm: float
) -> go.Figure:
    """A transformer's top-oil temperature (and dissolved gas on a second axis) around an alert, alarm level marked."""
    x = _local([p.measured_at for p in points], zone)
    figure = go.Figure([go.Scatter(x=x, y=[p.top_oil_c for p in points], mode="lines+markers", name="Top oil °C")])
    if any(p.dissolved_gas_ppm is not None for p in points):
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[p.dissolved_gas_ppm for p in points],
                mode="lines+markers",
                yaxis="y2",
                line={"color": "#6b7280"},
                name="Dissolved gas ppm",
            )
        )
    figure.add_hline(y=oil_alarm, line_dash="dash", line_color="#dc2626", annotation_text=f"alarm {oil_alarm:.0f} °C")
    _shade(figure, spans, zone)
    figure.update_layout(
        title=label(title),
        yaxis_title="°C",
        yaxis2={"overlaying": "y", "side": "right", "title": {"text": "ppm"}, "showgrid": False, "tickmode": "auto"},
        **_LAYOUT,
    )
    return figure
