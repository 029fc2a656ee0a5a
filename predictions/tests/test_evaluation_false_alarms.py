"""The evaluation says which kinds of anomaly its false alarms were."""

from __future__ import annotations

import datetime as dt

from predictions.detection.evaluation import Span, score_spans

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _span(meter: int, hours: tuple[int, int], kind: str = "") -> Span:
    return Span(meter, T0 + dt.timedelta(hours=hours[0]), T0 + dt.timedelta(hours=hours[1]), kind)


def test_false_alarms_are_counted_by_the_kind_of_anomaly_raised() -> None:
    truth = [_span(1, (10, 14), "sustained_excess")]
    detected = [
        _span(1, (11, 12), "sustained_excess"),  # true: overlaps the incident
        _span(2, (11, 12), "sustained_excess"),  # another room: false
        _span(2, (30, 40), "sustained_excess"),
        _span(1, (50, 51), "spike"),
    ]
    score = score_spans(detected=detected, truth=truth, meters=2, window=(T0, T0 + dt.timedelta(days=3)))
    assert score.true_alarms == 1
    assert score.false_alarms == 3
    assert score.false_alarms_by_kind == {"spike": 1, "sustained_excess": 2}
    assert score.as_dict()["false_alarms_by_kind"] == {"spike": 1, "sustained_excess": 2}
