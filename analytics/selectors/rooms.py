"""Warden views of one room: its hours against its expected band, anomalies, occupancy and alerts.

The band comes from hourly rollups only (never raw readings): a room's time-of-week profile, the same hours of
the previous `PROFILE_WEEKS` weeks, which is the detection module's profile tier. A room without enough history
has no expected value and is shown as such, never with a made-up number. (The hostel heat map compares with the
detector's own expected value instead: see `analytics.selectors.heatmap`.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet, Sum

from alerts.models import Alert
from alerts.selectors import alerts_for_user
from meters.models import HourlyRollup, Meter, Occupancy, Room, Weather
from predictions.models import Anomaly

PROFILE_WEEKS = 4
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class HourPoint:
    hour: dt.datetime
    actual: float | None
    expected: float | None
    low: float | None
    high: float | None
    temperature_c: float | None


def room_for_user(*, user: Any, room_id: int) -> Room | None:
    return Room.objects.visible_to(user).select_related("hostel__site").filter(pk=room_id).first()


def room_meter(*, room: Room) -> Meter | None:
    return (
        Meter.objects.filter(room=room, kind=Meter.Kind.ROOM)
        .order_by(F("removed_at").asc(nulls_first=True), "-pk")
        .first()
    )


def room_hours(*, room: Room, meter: Meter | None, start: dt.datetime, end: dt.datetime) -> list[HourPoint]:
    """Hourly kWh against the expected band (mean, lowest and highest of the same hour in prior weeks)."""
    if meter is None:
        return []
    earliest = start - PROFILE_WEEKS * WEEK
    actual: dict[dt.datetime, float] = {}
    prior: dict[dt.datetime, list[float]] = {}
    # Every room meter the room has had, so a replaced meter's history still forms the expected band.
    per_hour = (
        HourlyRollup.objects.filter(
            meter__room_id=room.pk, meter__kind=Meter.Kind.ROOM, hour__gte=earliest, hour__lt=end
        )
        .values("hour")
        .annotate(total=Sum("kwh"))
        .values_list("hour", "total")
        .order_by()
    )
    for hour, kwh in per_hour:
        if hour >= start:
            actual[hour] = kwh
        for k in range(1, PROFILE_WEEKS + 1):
            shifted = hour + k * WEEK
            if start <= shifted < end:
                prior.setdefault(shifted, []).append(kwh)
    temperature = dict(
        Weather.objects.filter(site_id=room.hostel.site_id, timestamp__gte=start, timestamp__lt=end).values_list(
            "timestamp", "temperature_c"
        )
    )
    points = []
    hour = start
    while hour < end:
        values = prior.get(hour, [])
        points.append(
            HourPoint(
                hour=hour,
                actual=actual.get(hour),
                expected=sum(values) / len(values) if values else None,
                low=min(values) if values else None,
                high=max(values) if values else None,
                temperature_c=temperature.get(hour),
            )
        )
        hour += dt.timedelta(hours=1)
    return points


def room_anomalies(*, room: Room, start: dt.datetime, end: dt.datetime) -> QuerySet[Anomaly]:
    return Anomaly.objects.filter(room=room, end__gt=start, start__lt=end).order_by("start")


def room_occupancy(*, room: Room, limit: int = 10) -> QuerySet[Occupancy]:
    return Occupancy.objects.filter(room=room).order_by("-start")[:limit]


def room_alerts_for_user(*, user: Any, room: Room, limit: int = 25) -> QuerySet[Alert]:
    return alerts_for_user(user=user).filter(room=room).order_by("-last_seen_at", "-id")[:limit]
