"""The dashboard's charts built from plain dicts: the JSON Plotly's validating objects give, without them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import pytest
from plotly.utils import PlotlyJSONEncoder

from analytics import figures
from analytics.figures.plain import _template
from analytics.selectors.overview import HostelComparison

MADRID = ZoneInfo("Europe/Madrid")
NOW = dt.datetime(2026, 12, 6, 9, 20, tzinfo=dt.UTC)


def _daily() -> Any:
    today = NOW.astimezone(MADRID).date()
    rows = [
        {"day": today - dt.timedelta(days=d), "hostel": hostel, "kwh": 100.0 / (d + 3) + len(hostel)}
        for d in range(3, -1, -1)
        for hostel in ("Hall <b>A</b>", "Hall B", "Hall C")
    ]
    return figures.daily_consumption_figure(rows, now=NOW.astimezone(MADRID))


def _hourly() -> Any:
    rows = [{"hour": NOW.replace(minute=0) - dt.timedelta(hours=h), "kwh": 1.0 / (h + 3)} for h in range(5, -1, -1)]
    return figures.hourly_load_figure(rows, now=NOW, zone=MADRID)


def _comparison() -> Any:
    rows = [
        HostelComparison(
            id=i,
            name=f"Hall {i} & co",
            kwh=100.0 * i,
            cost=10.0 * i,
            currency="EUR",
            occupied_beds=10 * i,
            beds=12 * i,
            kwh_per_occupied_bed_day=1.0 / (i + 2),
            kwh_per_occupied_bed_day_weather=None if i == 2 else 1.0 / (i + 3),
        )
        for i in (1, 2, 3)
    ]
    return figures.hostel_comparison_figure(rows)


def _without_plotly_objects(monkeypatch: pytest.MonkeyPatch, build: Any) -> tuple[Any, str]:
    """The figure and its JSON, built while plotly's validating objects refuse to be made."""
    _template()  # the default template, read once (from plotly's objects) before they are switched off

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a dashboard chart built plotly's validating objects")

    with monkeypatch.context() as patched:
        for name in ("Figure", "Bar", "Scatter"):
            patched.setattr(go, name, refuse)
        figure = build()
        return figure, figures.to_json(figure)


@pytest.mark.parametrize("build", [_daily, _hourly, _comparison])
def test_a_dashboard_chart_is_the_json_plotlys_objects_give(build: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    figure, text = _without_plotly_objects(monkeypatch, build)
    # The same properties through plotly's objects: valid (they raise on an unknown property) and normalized
    # (a title string becomes {"text": ...}, the default template is added) as the browser will receive them.
    plain = figure.to_plotly_json()
    validated = go.Figure(data=plain["data"], layout={k: v for k, v in plain["layout"].items() if k != "template"})
    assert json.loads(text) == json.loads(json.dumps(validated.to_plotly_json(), cls=PlotlyJSONEncoder))
    assert "<" not in text  # safe inside <script>


def test_a_nan_is_written_as_null_as_plotly_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def build() -> Any:
        rows = [{"hour": NOW.replace(minute=0) - dt.timedelta(hours=2), "kwh": float("nan")}]
        return figures.hourly_load_figure(rows, now=NOW, zone=MADRID)

    _, text = _without_plotly_objects(monkeypatch, build)
    assert json.loads(text)["data"][0]["y"] == [None]
