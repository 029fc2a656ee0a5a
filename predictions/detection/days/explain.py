"""Day findings in words, and as the detection pipeline's incidents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from predictions.detection.days.model import CLOSED_DAY_USAGE, CLOSURE, WEEKDAYS, DayFinding
from predictions.detection.frames import MeterInfo

T = TypeVar("T")


def day_explain(
    *,
    info: MeterInfo,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    actual: float,
    usual: float,
    extra: dict[str, float],
) -> str:
    """One sentence for a day finding (or a run of them), in the site's local dates."""
    zone = ZoneInfo(info.timezone)
    first = start.astimezone(zone).date()
    last = (end - dt.timedelta(seconds=1)).astimezone(zone).date()
    who = info.room_label
    other = usual * extra.get("other_share", 0.0)
    share = f"{100 * actual / usual:.0f} %" if usual > 0 else "an unknown share"
    if first == last:
        when = f"{WEEKDAYS[first.weekday()]} {first.day} {first:%b %Y}"
        usual_day = f"a usual {WEEKDAYS[first.weekday()]}"
        like_plural = False
    else:
        when = (
            f"{WEEKDAYS[first.weekday()]} {first.day} {first:%b} to {WEEKDAYS[last.weekday()]} {last.day} {last:%b %Y}"
        )
        usual_day = "the usual days"
        like_plural = True
        if extra.get("days", 0) > 1:
            when += f" ({extra['days']:.0f} working days)"
    if kind == CLOSURE:
        weekday = int(extra.get("like_weekday", -1))
        like = f"a {WEEKDAYS[weekday]}" if 0 <= weekday <= 6 and not like_plural else "closed days"
        like = "a closed day" if like == "closed days" and not like_plural else like
        return (
            f"{who}: {when} ran like {like}: {share} of {usual_day} ({actual:,.0f} kWh where about {usual:,.0f} kWh "
            f"is usual and closed days use about {other:,.0f} kWh). If the site was closed (a holiday or closure), "
            "add it to the calendar; otherwise check that the plant started."
        )
    return (
        f"{who}: {when} {'were closed days' if like_plural else 'was a closed day'} but ran like a working day: "
        f"{share} of {usual_day} ({actual:,.0f} kWh "
        f"where about {usual:,.0f} kWh is usual and working days use about {other:,.0f} kWh); "
        "plant, heating or lighting was probably left on."
    )


def days_found(*, findings: list[DayFinding], policies: dict[int, Any], make: Callable[..., T]) -> list[T]:
    """Day findings as the detection pipeline's incidents (`make` is its `Found`); a suppressed kind is muted."""
    out = []
    for finding in findings:
        policy = policies.get(finding.meter_id)
        excess = max(finding.actual_kwh - finding.usual_kwh, 0.0) if finding.kind == CLOSED_DAY_USAGE else 0.0
        hours = max(int((finding.end - finding.start).total_seconds() // 3600), 1)
        out.append(
            make(
                meter_id=finding.meter_id,
                kind=finding.kind,
                start=finding.start,
                end=finding.end,
                score=finding.score,
                expected_kwh=finding.usual_kwh,
                actual_kwh=finding.actual_kwh,
                detectors=["day_level"],
                muted=bool(policy and finding.kind in policy.suppressed_kinds),
                excess=[(finding.start + dt.timedelta(hours=h), excess / hours) for h in range(hours)],
                extra={
                    "other_share": finding.other_kwh / finding.usual_kwh if finding.usual_kwh > 0 else 0.0,
                    "like_weekday": float(finding.like_weekday),
                    "position": round(finding.position, 3),
                    "days": float(finding.days),
                },
            )
        )
    return out
