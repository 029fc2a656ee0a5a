"""Score detection against known incidents, next to a plain Isolation Forest on raw readings.

Incident level: a known incident is found when an anomaly on its meter overlaps it (an anomaly on
a hostel main meter also counts for an incident on one of its rooms: the main saw the same
excess). An anomaly is a true alarm when it overlaps a known incident that way, a false alarm
otherwise. Muted anomalies (unfit baseline, suppressed kind) are not alerts and are not scored.
Day level (labels given per day): a day is flagged when an anomaly overlaps it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from predictions.detection.detectors import _runs
from predictions.detection.frames import frame_load, meter_infos


@dataclass(frozen=True)
class Span:
    """A time span on a meter: a known incident or a detected anomaly."""

    meter_id: int
    start: dt.datetime
    end: dt.datetime
    kind: str = ""


@dataclass
class Score:
    precision: float
    recall: float
    f1: float
    true_alarms: int
    false_alarms: int
    found: int
    incidents: int
    false_alerts_per_meter_month: float
    median_minutes_to_detect: float | None
    recall_by_kind: dict[str, float]
    false_alarms_by_kind: dict[str, int]

    def as_dict(self, prefix: str = "") -> dict[str, Any]:
        return {f"{prefix}{k}": v for k, v in self.__dict__.items()}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _unmatched(
    spans: Sequence[Span],
    others: Sequence[Span],
    *,
    meters_of: Callable[[Span], Iterable[int]],
    tolerance: dt.timedelta,
) -> list[Span]:
    """The `spans` that overlap none of the `others` on any meter `meters_of(span)` names."""
    by_meter: dict[int, list[Span]] = {}
    for other in others:
        by_meter.setdefault(other.meter_id, []).append(other)
    return [
        span
        for span in spans
        if not any(
            span.start < other.end + tolerance and other.start < span.end + tolerance
            for meter_id in meters_of(span)
            for other in by_meter.get(meter_id, [])
        )
    ]


def false_spans(
    *,
    detected: Sequence[Span],
    truth: Sequence[Span],
    main_of: dict[int, int] | None = None,
    tolerance: dt.timedelta = dt.timedelta(minutes=15),
) -> list[Span]:
    """The detected spans that overlap no known incident on their meter (or, for a main, on one of its rooms)."""
    rooms_of: dict[int, list[int]] = {}
    for room, main in (main_of or {}).items():
        rooms_of.setdefault(main, []).append(room)
    return _unmatched(
        detected, truth, meters_of=lambda a: [a.meter_id, *rooms_of.get(a.meter_id, [])], tolerance=tolerance
    )


def missed_spans(
    *,
    detected: Sequence[Span],
    truth: Sequence[Span],
    main_of: dict[int, int] | None = None,
    tolerance: dt.timedelta = dt.timedelta(minutes=15),
) -> list[Span]:
    """The known incidents no detected span overlaps on their meter (or on their room's main): the misses."""
    main_of = main_of or {}
    return _unmatched(
        truth, detected, meters_of=lambda t: [t.meter_id, main_of.get(t.meter_id, -1)], tolerance=tolerance
    )


def score_spans(
    *,
    detected: Sequence[Span],
    truth: Sequence[Span],
    meters: int,
    window: tuple[dt.datetime, dt.datetime],
    main_of: dict[int, int] | None = None,
    tolerance: dt.timedelta = dt.timedelta(minutes=15),
) -> Score:
    """Incident-level precision, recall, F1, false alerts per meter-month and median time to detect."""
    main_of = main_of or {}

    def matches(a: Span, t: Span) -> bool:
        same = a.meter_id == t.meter_id or main_of.get(t.meter_id) == a.meter_id
        return same and a.start < t.end + tolerance and t.start < a.end + tolerance

    false_kinds = [a.kind for a in detected if not any(matches(a, t) for t in truth)]
    false_alarms = len(false_kinds)
    true_alarms = len(detected) - false_alarms
    delays: list[float] = []
    found = 0
    by_kind: dict[str, list[bool]] = {}
    for t in truth:
        hits = [a for a in detected if matches(a, t)]
        by_kind.setdefault(t.kind, []).append(bool(hits))
        if hits:
            found += 1
            first = min(max(a.start, t.start) for a in hits)
            delays.append((first - t.start).total_seconds() / 60 + 15)  # seen when its first interval has arrived
    precision = true_alarms / len(detected) if detected else (1.0 if not truth else 0.0)
    recall = found / len(truth) if truth else 1.0
    months = max((window[1] - window[0]).total_seconds() / (30.44 * 86400), 1e-9)
    return Score(
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(_f1(precision, recall), 4),
        true_alarms=true_alarms,
        false_alarms=false_alarms,
        found=found,
        incidents=len(truth),
        false_alerts_per_meter_month=round(false_alarms / max(meters, 1) / months, 4),
        median_minutes_to_detect=float(np.median(delays)) if delays else None,
        recall_by_kind={k: round(sum(v) / len(v), 3) for k, v in sorted(by_kind.items())},
        false_alarms_by_kind={k: false_kinds.count(k) for k in sorted(set(false_kinds))},
    )


def day_scores(*, detected: Sequence[Span], labels: dict[dt.date, bool], tz: str) -> dict[str, float]:
    """Day-level precision, recall and F1: a day is flagged when an anomaly overlaps it (local days)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    flagged: set[dt.date] = set()
    for a in detected:
        day = a.start.astimezone(zone).date()
        last = (a.end - dt.timedelta(seconds=1)).astimezone(zone).date()
        while day <= last:
            flagged.add(day)
            day += dt.timedelta(days=1)
    days = set(labels)
    tp = sum(1 for d in days if labels[d] and d in flagged)
    fp = sum(1 for d in days if not labels[d] and d in flagged)
    fn = sum(1 for d in days if labels[d] and d not in flagged)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"day_precision": round(p, 4), "day_recall": round(r, 4), "day_f1": round(_f1(p, r), 4)}


def isolation_forest_baseline(
    *,
    meter_ids: Iterable[int],
    train: tuple[dt.datetime, dt.datetime],
    detect: tuple[dt.datetime, dt.datetime],
    seed: int = 0,
) -> list[Span]:
    """The original plan's approach: one Isolation Forest on raw readings (kWh, V, A, PF, hour), runs merged."""
    ids = list(meter_ids)
    columns = ["kwh", "voltage", "current", "pf", "hour"]
    history = frame_load(meter_ids=ids, start=train[0], end=train[1])
    if history.empty:
        return []
    forest = IsolationForest(n_estimators=100, contamination="auto", random_state=seed, n_jobs=1)
    forest.fit(history[columns].fillna(0.0).sample(min(len(history), 100_000), random_state=seed).to_numpy())
    frame = frame_load(meter_ids=ids, start=detect[0], end=detect[1])
    if frame.empty:
        return []
    flagged = forest.predict(frame[columns].fillna(0.0).to_numpy()) == -1
    infos = meter_infos(meter_ids=ids)
    spans: list[Span] = []
    meter_col = frame["meter_id"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, meter_col[1:] != meter_col[:-1], True])
    ts = frame["ts"]
    for a, b in itertools.pairwise(bounds):
        meter_id = int(meter_col[a])
        step = pd.Timedelta(minutes=infos[meter_id].interval_minutes)
        for s, e in _runs(flagged[a:b], gap=1):
            spans.append(Span(meter_id, ts.iloc[a + s].to_pydatetime(), (ts.iloc[a + e] + step).to_pydatetime()))
    return spans
