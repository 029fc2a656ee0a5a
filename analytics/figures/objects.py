"""The charts built with Plotly's validating objects (`plotly.graph_objects`): every chart but the dashboard's
three plain-dict ones (`analytics.figures.plain`)."""

from __future__ import annotations

import textwrap
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from analytics.figures.base import _LAYOUT, _local, _time_axis, label

BAND_FILL = "rgba(37,99,235,0.18)"


def _band(x: Any, high: Any, low: Any, *, name: str, high_name: str | None = None, hover: str | None = None) -> list:
    """A shaded band between two lines: the invisible upper edge, then the lower filled up to it."""
    return [
        go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip", name=high_name),
        go.Scatter(
            x=x,
            y=low,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=BAND_FILL,
            name=name,
            hovertemplate=hover,
        ),
    ]


def forecast_band_figure(points: Sequence[Any], *, title: str, zone: Any) -> go.Figure:
    """Forecast with its 5-95 % interval as a shaded band, and the actual where known, in local time."""
    targets = _local([p.target for p in points], zone)
    figure = go.Figure(
        [
            *_band(
                targets,
                [round(p.upper, 2) for p in points],
                [round(p.lower, 2) for p in points],
                name="5-95 % interval",
                high_name="95 %",
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
            *_band(
                band_hours,
                [round(p.high, 3) for p in band],
                [round(p.low, 3) for p in band],
                name="Expected band (prior weeks)",
                high_name="highest",
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
            *_band(x, series.high, series.low, name="Expected band", hover="%{y:.2f} kWh/h<extra>band low</extra>"),
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
