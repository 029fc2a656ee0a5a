"""Warden views of rooms: deviation from expected per room, and one room's hours against its expected band.

Expected values come from hourly rollups only (never raw readings): a room's time-of-week profile, the same
hours of the previous `PROFILE_WEEKS` weeks, which is the detection module's profile tier. A room without enough
history has no expected value and is shown as such, never with a made-up number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from alerts.models import Alert
from alerts.selectors import alerts_for_user
from meters.models import HourlyRollup, Meter, Occupancy, Room, Weather
from predictions.models import Anomaly

PROFILE_WEEKS = 4
MIN_HOURS = 18  # a 24-hour window needs this many rolled-up hours to count
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class RoomDeviation:
    room_id: int
    number: str
    floor: int
    actual_kwh: float | None
    expected_kwh: float | None
    open_anomalies: int

    @property
    def deviation_pct(self) -> float | None:
        if self.actual_kwh is None or not self.expected_kwh:
            return None
        return 100.0 * (self.actual_kwh - self.expected_kwh) / self.expected_kwh


@dataclass(frozen=True)
class HourPoint:
    hour: dt.datetime
    actual: float | None
    expected: float | None
    low: float | None
    high: float | None
    temperature_c: float | None


def room_deviations_for_user(*, user: Any, hostel_id: int, now: dt.datetime | None = None) -> list[RoomDeviation]:
    """Each visible room of a hostel: kWh in the last 24 h against its time-of-week expected value."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    rooms = list(
        Room.objects.visible_to(user)
        .filter(hostel_id=hostel_id)
        .order_by("floor", "number")
        .values_list("pk", "number", "floor")
    )
    room_ids = [pk for pk, _, _ in rooms]
    windows = [(now - dt.timedelta(hours=24) - k * WEEK, now - k * WEEK) for k in range(PROFILE_WEEKS + 1)]
    in_windows = Q()
    for start, end in windows:
        in_windows |= Q(hour__gte=start, hour__lt=end)
    aggregates: dict[str, Any] = {}
    for k, (start, end) in enumerate(windows):
        aggregates[f"kwh{k}"] = Sum("kwh", filter=Q(hour__gte=start, hour__lt=end))
        aggregates[f"n{k}"] = Count("id", filter=Q(hour__gte=start, hour__lt=end))
    # Meter ids first: filtering the rollups by them (not through a join) lets PostgreSQL walk the
    # (meter, hour) index for each window (measured on the large campus: 105 ms -> 15 ms).
    meter_room = dict(
        Meter.objects.filter(room_id__in=room_ids, kind=Meter.Kind.ROOM).values_list("pk", "room_id").order_by()
    )
    sums: dict[int, dict[str, Any]] = {}
    for row in (
        HourlyRollup.objects.filter(in_windows, meter_id__in=list(meter_room))
        .values("meter_id")
        .annotate(**aggregates)
        .order_by()
    ):
        # A replaced meter's history continues under its room: add the meters of one room together.
        into = sums.setdefault(meter_room[row["meter_id"]], dict.fromkeys(aggregates, 0))
        for key in aggregates:
            into[key] += row[key] or 0
    anomalies = dict(
        Anomaly.objects.filter(room_id__in=room_ids, status=Anomaly.Status.OPEN, end__gt=now - dt.timedelta(hours=24))
        .values("room_id")
        .annotate(n=Count("id"))
        .values_list("room_id", "n")
        .order_by()
    )
    result = []
    for pk, number, floor in rooms:
        row = sums.get(pk)
        actual = expected = None
        if row is not None:
            if row["n0"] >= MIN_HOURS:
                actual = float(row["kwh0"] or 0.0)
            prior = [float(row[f"kwh{k}"] or 0.0) for k in range(1, PROFILE_WEEKS + 1) if row[f"n{k}"] >= MIN_HOURS]
            if prior:
                expected = sum(prior) / len(prior)
        result.append(RoomDeviation(pk, number, floor, actual, expected, anomalies.get(pk, 0)))
    return result


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
