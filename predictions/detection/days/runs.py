"""Runs of day findings: consecutive closed working days are one closure, and the days a finding claims."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

from predictions.detection.days.model import CLOSURE, DayFinding


def closures_merge(
    *, findings: list[DayFinding], closed: set[dt.date], weekend: frozenset[int] = frozenset({5, 6})
) -> list[DayFinding]:
    """Consecutive working days that ran like closed days are one closure (a vacation, a shutdown), one finding.

    Working days are consecutive when only closed days (weekends, calendar holidays) lie between them. Live,
    one day is judged at a time and nothing changes; over a history a two-week closure is one event, not ten.
    """
    out: list[DayFinding] = []
    for finding in sorted(findings, key=lambda f: (f.meter_id, f.day)):
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.kind == finding.kind == CLOSURE
            and previous.meter_id == finding.meter_id
            and only_closed_between(previous.last_day or previous.day, finding.day, closed, weekend)
        ):
            days = previous.days + 1
            out[-1] = replace(
                previous,
                end=finding.end,
                actual_kwh=previous.actual_kwh + finding.actual_kwh,
                usual_kwh=previous.usual_kwh + finding.usual_kwh,
                other_kwh=previous.other_kwh + finding.other_kwh,
                position=(previous.position * previous.days + finding.position) / days,
                like_weekday=-1,
                days=days,
                last_day=finding.day,
            )
        else:
            out.append(finding)
    return out


def only_closed_between(first: dt.date, last: dt.date, closed: set[dt.date], weekend: frozenset[int]) -> bool:
    day = first + dt.timedelta(days=1)
    while day < last:
        if day.weekday() not in weekend and day not in closed:
            return False
        day += dt.timedelta(days=1)
    return True


def finding_days(
    *,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    tz: str,
    closed: set[dt.date],
    weekend: frozenset[int] = frozenset({5, 6}),
) -> list[dt.date]:
    """The local days a day finding claims: a closure, its working days (the closed days inside it were expected
    closed); a closed day used like a working day, its day."""
    zone = ZoneInfo(tz)
    day, last = start.astimezone(zone).date(), (end - dt.timedelta(seconds=1)).astimezone(zone).date()
    days = []
    while day <= last:
        if kind != CLOSURE or (day.weekday() not in weekend and day not in closed):
            days.append(day)
        day += dt.timedelta(days=1)
    return days
