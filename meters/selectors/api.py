"""Querysets behind the REST API: scoped by `visible_to(user)`, time series read from rollups."""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum

from meters.models import DailyRollup, Hostel, HourlyRollup, Meter, Occupancy, Reading, Room, Site, Weather


class Resolution(enum.StrEnum):
    RAW = "raw"
    HOURLY = "hourly"
    DAILY = "daily"


def sites_queryset_for_user(*, user: Any) -> QuerySet[Site]:
    return Site.objects.visible_to(user).annotate(n_hostels=Count("hostels", distinct=True))


def hostels_queryset_for_user(*, user: Any) -> QuerySet[Hostel]:
    return (
        Hostel.objects.visible_to(user)
        .select_related("site")
        .annotate(n_rooms=Count("rooms", distinct=True), beds=Sum("rooms__capacity"))
    )


def rooms_queryset_for_user(*, user: Any) -> QuerySet[Room]:
    return Room.objects.visible_to(user).select_related("hostel")


def room_for_user(*, user: Any, room_id: int) -> Room | None:
    return Room.objects.visible_to(user).select_related("hostel__site").filter(pk=room_id).first()


def meters_queryset_for_user(*, user: Any) -> QuerySet[Meter]:
    return Meter.objects.visible_to(user).select_related("room", "hostel")


def meter_for_user(*, user: Any, meter_id: int) -> Meter | None:
    return (
        Meter.objects.visible_to(user).select_related("hostel__site", "room__hostel__site").filter(pk=meter_id).first()
    )


def weather_queryset_for_user(*, user: Any) -> QuerySet[Weather]:
    return Weather.objects.visible_to(user).select_related("site")


def occupancy_queryset_for_user(*, user: Any) -> QuerySet[Occupancy]:
    return Occupancy.objects.visible_to(user).select_related("room")


def readings_series(
    *, meter_ids: list[int], resolution: Resolution, start: dt.datetime, end: dt.datetime, tz: str
) -> QuerySet[Any]:
    """Rows of {start|day, meter, kwh, ...} for the meters in [start, end), ordered for cursor paging.

    Raw rows come from readings; hourly and daily from the rollups (never a scan of raw readings).
    Daily rows are local days of the hostel's time zone `tz`, selected by the local dates of the range.
    """
    if resolution is Resolution.RAW:
        return Reading.objects.filter(meter_id__in=meter_ids, timestamp__gte=start, timestamp__lt=end).values(
            "meter_id", "kwh", "voltage", "current", "power_factor", "quality", start=F("timestamp")
        )
    if resolution is Resolution.HOURLY:
        return HourlyRollup.objects.filter(meter_id__in=meter_ids, hour__gte=start, hour__lt=end).values(
            "meter_id",
            "kwh",
            "readings",
            "estimated",
            "peak_kw",
            "voltage_min",
            "voltage_max",
            start=F("hour"),
            voltage=F("voltage_avg"),
            power_factor=F("power_factor_avg"),
        )
    zone = zoneinfo.ZoneInfo(tz)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    return DailyRollup.objects.filter(meter_id__in=meter_ids, day__gte=first, day__lt=last).values(
        "meter_id", "day", "kwh", "readings", "estimated", "peak_kw"
    )


def series_page_rows(
    *, rows: list[dict[str, Any]], resolution: Resolution, tz: str, interval_minutes: int = 15
) -> list[dict[str, Any]]:
    """Give every row `start` and `end` as aware datetimes (a local day starts at local midnight)."""
    if resolution is Resolution.DAILY:
        zone = zoneinfo.ZoneInfo(tz)
        for row in rows:
            row["start"] = dt.datetime.combine(row["day"], dt.time(), tzinfo=zone)
            row["end"] = dt.datetime.combine(row["day"] + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        return rows
    step = dt.timedelta(hours=1) if resolution is Resolution.HOURLY else dt.timedelta(minutes=interval_minutes)
    for row in rows:
        row["end"] = row["start"] + step
    return rows


def occupancy_current(*, room_ids: list[int], now: dt.datetime) -> dict[int, int]:
    """Occupants of each room now (rooms without a period are left out)."""
    current: dict[int, int] = {}
    for period in (
        Occupancy.objects.filter(room_id__in=room_ids, start__lte=now)
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .order_by("start")
    ):
        current[period.room_id] = period.occupants
    return current
