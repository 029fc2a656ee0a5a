"""Meters that stopped reporting: a selector the alerts issue consumes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone

from meters.models import Meter

STALE_AFTER_INTERVALS = 4


@dataclass(frozen=True)
class StaleMeter:
    """An active meter whose last reading is older than `STALE_AFTER_INTERVALS` of its intervals."""

    meter_id: int
    serial: str
    hostel_id: int | None
    room_id: int | None
    last_reading_at: dt.datetime | None
    silent_for: dt.timedelta
    interval_minutes: int


def meters_stale(
    *, now: dt.datetime | None = None, after_intervals: int = STALE_AFTER_INTERVALS, hostel_ids: list[int] | None = None
) -> list[StaleMeter]:
    """Active, physical meters silent for longer than `after_intervals` intervals (or since install)."""
    now = now or timezone.now()
    meters = Meter.objects.filter(removed_at__isnull=True, status=Meter.Status.ACTIVE).exclude(kind=Meter.Kind.VIRTUAL)
    if hostel_ids is not None:
        meters = meters.filter(hostel_id__in=hostel_ids)
    # Cheap pre-filter in SQL at the shortest interval; the exact per-meter test is below.
    cutoff = now - dt.timedelta(minutes=15 * after_intervals)
    meters = meters.filter(
        Q(last_reading_at__lt=cutoff) | Q(last_reading_at__isnull=True, installed_at__lt=cutoff)
    ).annotate(since=F("last_reading_at"))
    out = []
    for meter in meters.order_by("hostel_id", "serial"):
        last = meter.last_reading_at or meter.installed_at
        # A reading stamped at t covers [t, t + interval): silence starts when that interval ends.
        silent = now - (last + dt.timedelta(minutes=meter.interval_minutes))
        if silent > dt.timedelta(minutes=meter.interval_minutes * after_intervals):
            out.append(
                StaleMeter(
                    meter_id=meter.id,
                    serial=meter.serial,
                    hostel_id=meter.hostel_id,
                    room_id=meter.room_id,
                    last_reading_at=meter.last_reading_at,
                    silent_for=silent,
                    interval_minutes=meter.interval_minutes,
                )
            )
    return out
