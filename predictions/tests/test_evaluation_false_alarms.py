"""The evaluation says which kinds of anomaly its false alarms were, and which incidents it missed."""

from __future__ import annotations

import datetime as dt

from predictions.detection.evaluation import Span, false_spans, missed_spans, score_spans

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


def test_the_false_alarms_listed_are_those_the_score_counts_and_a_main_matches_its_rooms_incidents() -> None:
    truth = [_span(1, (10, 14), "sustained_excess")]
    detected = [
        _span(1, (11, 12), "sustained_excess"),
        _span(9, (12, 13), "sustained_excess"),  # room 1's main saw the same excess: true
        _span(8, (12, 13), "sustained_excess"),  # another main: false
        _span(1, (50, 51), "spike"),
    ]
    main_of = {1: 9}
    false = false_spans(detected=detected, truth=truth, main_of=main_of)
    assert false == [detected[2], detected[3]]
    score = score_spans(
        detected=detected, truth=truth, meters=3, window=(T0, T0 + dt.timedelta(days=3)), main_of=main_of
    )
    assert score.false_alarms == len(false)


def test_the_misses_listed_are_the_incidents_recall_does_not_count_and_a_main_can_find_its_rooms() -> None:
    truth = [
        _span(1, (10, 14), "sustained_excess"),  # found on its own meter
        _span(2, (20, 21), "spike"),  # found by room 2's main (9)
        _span(3, (30, 31), "spike"),  # its meter flagged other hours only: missed
        _span(4, (40, 48), "night_usage"),  # another main (8) flagged it, not room 4's: missed
    ]
    detected = [
        _span(1, (11, 12), "sustained_excess"),
        _span(9, (20, 21), "high_consumption"),
        _span(3, (60, 61), "spike"),
        _span(8, (41, 42), "sustained_excess"),
    ]
    main_of = {2: 9, 4: 7}
    missed = missed_spans(detected=detected, truth=truth, main_of=main_of)
    assert missed == [truth[2], truth[3]]
    score = score_spans(
        detected=detected, truth=truth, meters=5, window=(T0, T0 + dt.timedelta(days=3)), main_of=main_of
    )
    assert score.incidents - score.found == len(missed)
