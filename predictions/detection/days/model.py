"""The day detector's parameters, its findings, and local days as UTC spans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

CLOSURE = "closure_unexpected"
CLOSED_DAY_USAGE = "closed_day_usage"
DAY_KINDS = frozenset({CLOSURE, CLOSED_DAY_USAGE})
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class DayConfig:
    """The few parameters of the day detector; each is a plain statement about buildings, not a fit."""

    working_days: int = 5  # the last working week
    same_weekdays: int = 8  # the same weekday over the last two months
    closed_days: int = 4  # the last two weekends
    margin: float = 0.3  # within 30 % of the gap of the other kind of day
    spread: float = 5.0  # and within this many robust deviations of that kind's recent days
    unlike: float = 3.0  # or nearer the other kind and this many robust deviations away from its own weekdays
    # (a half-open working day: a closure only beside another working day that ran closed, a closure period)
    min_separation: float = 0.85  # closed days using this share of a working day: no clear working week
    min_coverage: float = 0.8  # share of a day's readings needed to judge it or learn from it
    history_days: int = 63  # how far from a day its usual days are learned (the nearest this many days)


@dataclass(frozen=True)
class DayFinding:
    """One judged day that ran like the other kind of day."""

    meter_id: int
    kind: str
    day: dt.date
    start: dt.datetime  # local midnight, UTC
    end: dt.datetime  # next local midnight, UTC
    actual_kwh: float
    usual_kwh: float  # the usual day of the kind the calendar expected
    other_kwh: float  # the usual day of the kind it resembled
    position: float  # 0: like a closed day, 1: like a working day
    like_weekday: int  # the closed weekday it resembled (0: Monday .. 6), or -1 for "a working day"/"a closed day"
    days: int = 1  # judged days it covers: a closure of consecutive working days is one finding
    last_day: dt.date | None = None  # its last judged day, when it covers more than one

    @property
    def share(self) -> float:
        return self.actual_kwh / self.usual_kwh if self.usual_kwh > 0 else 0.0

    @property
    def score(self) -> float:
        """0.5 at the margin, near 1 for a day exactly like the other kind."""
        distance = self.position if self.kind == CLOSURE else 1.0 - self.position
        return float(np.clip(1.0 - 2.0 * max(distance, 0.0), 0.5, 1.0))


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """A local day as [start, end) in UTC (23 or 25 hours on a DST change)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    return start, end
