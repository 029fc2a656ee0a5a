"""Judging one building's days against the usual working and closed days around them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from predictions.detection.days.model import CLOSED_DAY_USAGE, CLOSURE, DayConfig, DayFinding, day_bounds
from predictions.detection.days.runs import only_closed_between


@dataclass(frozen=True)
class _Verdict:
    """How one day ran against its usual days: the kind of finding it makes, if any, and its figures."""

    kind: str  # "" when the day ran as expected
    clear: bool  # inside the other kind's own cluster (not only a half-open working day)
    position: float
    usual: np.ndarray
    other: np.ndarray
    closed_near: list[int]
    near_closed: bool = False  # a working day within the closure margin of the usual closed day


def days_judge(
    *,
    meter_id: int,
    profiles: pd.DataFrame,
    closed: set[dt.date],
    days: Iterable[dt.date],
    tz: str,
    config: DayConfig | None = None,
    around: bool = False,
    weekend: frozenset[int] = frozenset({5, 6}),
) -> list[DayFinding]:
    """Judge each of `days` that has a profile, from the profiles of the days before it (`around`: and after it).

    A working day well inside the closed days' cluster is a closure on its own. A half-open one (nearer the
    closed day than the working one, but above the closed days' cluster) is a closure only beside another
    working day that ran like a closed day (a closure period on a plant timer): one such day alone is a quiet
    day, not a closure. A working day within the closure margin of the closed day (`margin`) but above the
    closed days' own tight cluster, beside a working day that was clearly closed (only closed days between),
    belongs to that closure (an Easter Monday with a few people in, after a closed Good Friday): a run of
    closed-like working days is judged as one, not cut where one day's level is a little above the weekend's.
    """
    config = config or DayConfig()
    zone = ZoneInfo(tz)
    index = list(profiles.index)
    position_of = {day: i for i, day in enumerate(index)}
    values = profiles.to_numpy(dtype=float)
    is_closed = np.array([day.weekday() in weekend or day in closed for day in index], dtype=bool)
    verdicts: dict[int, _Verdict | None] = {}

    def verdict(i: int) -> _Verdict | None:
        if i not in verdicts:
            verdicts[i] = _day_verdict(
                i=i, index=index, values=values, is_closed=is_closed, config=config, around=around
            )
        return verdicts[i]

    def closure_beside(i: int, clear: bool = False) -> bool:
        """The nearest working day before (`around`: or after) day i, with only closed days between, ran closed
        (`clear`: inside the closed days' own cluster, a closure on its own)."""
        neighbours = [i - 1, i + 1] if around else [i - 1]
        for j, step in zip(neighbours, (-1, 1), strict=False):
            while 0 <= j < len(index) and is_closed[j]:
                j += step
            if not 0 <= j < len(index) or not only_closed_between(index[min(i, j)], index[max(i, j)], closed, weekend):
                continue  # none, or a working day without readings lies between
            seen = verdict(j)
            if seen is not None and seen.kind == CLOSURE and (seen.clear or not clear):
                return True
        return False

    found: list[DayFinding] = []
    for day in sorted(set(days)):
        i = position_of.get(day)
        if i is None:
            continue
        seen = verdict(i)
        if seen is None:
            continue
        if not seen.kind and seen.near_closed and closure_beside(i, clear=True):
            seen = replace(seen, kind=CLOSURE, clear=False)  # the rest of the closure beside it: one run
        if not seen.kind:
            continue
        if seen.kind == CLOSURE and not seen.clear and not closure_beside(i):
            continue
        like = -1
        if seen.kind == CLOSURE:
            like = nearest_closed_weekday(
                values=values, index=index, near=seen.closed_near, total=values[i].sum(), weekend=weekend
            )
        start, end = day_bounds(day, zone)
        found.append(
            DayFinding(
                meter_id=meter_id,
                kind=seen.kind,
                day=day,
                start=start,
                end=end,
                actual_kwh=float(values[i].sum()),
                usual_kwh=float(seen.usual.sum()),
                other_kwh=float(seen.other.sum()),
                position=seen.position,
                like_weekday=like,
            )
        )
    return found


def _day_verdict(
    *, i: int, index: list[dt.date], values: np.ndarray, is_closed: np.ndarray, config: DayConfig, around: bool
) -> _Verdict | None:
    """Day i against the usual days nearest it; None when too little is known or the building has no clear week."""
    day = index[i]
    totals = values.sum(axis=1)
    # The usual days are the nearest ones: live, the weeks before (no later day is complete yet); over a
    # history (an import, a scan), the weeks around the day, so it is judged within its own season.
    window = sorted(
        (
            j
            for j in range(len(index))
            if (j < i or (around and j > i)) and abs((index[j] - day).days) <= config.history_days
        ),
        key=lambda j: (abs((index[j] - day).days), index[j] > day),
    )
    near = window[: config.history_days]
    working = [j for j in near if not is_closed[j]]
    closed_days = [j for j in near if is_closed[j]]
    same = [j for j in near if index[j].weekday() == day.weekday() and is_closed[j] == is_closed[i]]
    same, recent_working = same[: config.same_weekdays], working[: config.working_days]
    recent_closed = closed_days[: config.closed_days]
    if len(recent_working) < 3 or len(same) < 3 or len(closed_days) < 2:
        return None  # not enough history to know this building's week
    if is_closed[i]:
        work = np.median(values[recent_working], axis=0)
        rest = np.median(values[same], axis=0)
    else:
        work = np.median(values[same], axis=0)  # a building whose Fridays are short has short usual Fridays
        rest = np.median(values[recent_closed], axis=0)
    # Whether the building has a clear working week is asked of every day within `history_days`, not only of
    # the nearest: a closure of three weeks must not make its own weeks look like a building with no week.
    if rest.sum() >= config.min_separation * work.sum() or not clear_week(
        working=totals[[j for j in window if not is_closed[j]]], closed=totals[[j for j in window if is_closed[j]]]
    ):
        return None  # no clear working week
    gap = work - rest
    position = float((values[i] - rest) @ gap / (gap @ gap))
    # It must also resemble the other kind of day: lie within that kind's own spread of positions.
    other = (working if is_closed[i] else closed_days)[:8]
    spread = (values[other] - rest) @ gap / (gap @ gap)
    centre = float(np.median(spread))
    width = config.spread * max(1.4826 * float(np.median(np.abs(spread - centre))), 0.02)
    # Or a working day nearer the closed day than the working one (a half-open holiday) that is also unlike
    # its own weekdays: below their positions by `unlike` robust deviations.
    own = (values[same] - rest) @ gap / (gap @ gap)
    own_centre = float(np.median(own))
    own_width = max(1.4826 * float(np.median(np.abs(own - own_centre))), 0.02)
    like_closed = position < min(config.margin, centre + width)
    half_open = position < 0.5 and position < own_centre - config.unlike * own_width
    kind = ""
    if not is_closed[i] and (like_closed or half_open):
        kind = CLOSURE
    elif is_closed[i] and max(1.0 - config.margin, centre - width) < position < max(
        1.0 + config.margin, centre + width
    ):
        # Like a working day from both sides: a closed day far above even a working day (a hostel's weekend in
        # the first cold snap, its heating on) is a level the weeks before never showed, not a working day's
        # use; the readings' detectors, which know the weather, judge it.
        kind = CLOSED_DAY_USAGE
    usual, unusual = (rest, work) if is_closed[i] else (work, rest)
    return _Verdict(
        kind=kind,
        clear=kind != CLOSURE or like_closed,
        position=position,
        usual=usual,
        other=unusual,
        closed_near=closed_days,
        near_closed=not is_closed[i] and position < config.margin,
    )


def clear_week(*, working: np.ndarray, closed: np.ndarray) -> bool:
    """Two clusters: three closed days in four use less than three working days in four (quartiles)."""
    return bool(np.percentile(closed, 75) < np.percentile(working, 25))


def nearest_closed_weekday(
    *, values: np.ndarray, index: list[dt.date], near: list[int], total: float, weekend: frozenset[int]
) -> int:
    """The closed weekday (0: Monday .. 6: Sunday) whose recent total is nearest to `total`, or -1."""
    best, best_distance = -1, np.inf
    for weekday in sorted(weekend):
        days = [j for j in near if index[j].weekday() == weekday][:4]
        if len(days) < 2:
            continue
        distance = abs(float(np.median(values[days].sum(axis=1))) - total)
        if distance < best_distance:
            best, best_distance = weekday, distance
    return best
