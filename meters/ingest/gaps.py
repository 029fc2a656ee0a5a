"""Gaps: short ones are filled with estimates, long ones are left and reported.

An estimate comes from the meter's own time-of-week profile (mean kWh per interval for each
weekday and local hour over the four weeks before the gap), scaled so the profile meets the
real readings on both sides of the gap. With no history, the two neighbours are interpolated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min

from meters.ingest.arrays import int_array, timestamp_array
from meters.ingest.types import Gap, MeterRange
from meters.models import HourlyRollup, Meter, Quality, Reading

PROFILE_DAYS = 28


def gap_fill_limit() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "INGEST_GAP_FILL_MAX_MINUTES", 120))


def _counts(ranges: Mapping[int, tuple[dt.datetime, dt.datetime]]) -> dict[int, tuple[int, dt.datetime, dt.datetime]]:
    """Per meter: readings in the span, first and last timestamp."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT a.meter_id, b.n, b.first, b.last
                FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS a(meter_id, s, e)
                CROSS JOIN LATERAL (  -- an index range scan per meter (see rollups)
                    SELECT count(*) AS n, min(r.timestamp) AS first, max(r.timestamp) AS last
                    FROM {Reading._meta.db_table} r
                    WHERE r.meter_id = a.meter_id AND r.timestamp >= a.s AND r.timestamp <= a.e
                ) b
                WHERE b.n > 0
                """,
                [
                    int_array(ranges),
                    timestamp_array(s for s, _ in ranges.values()),
                    timestamp_array(e for _, e in ranges.values()),
                ],
            )
            return {int(m): (int(n), first, last) for m, n, first, last in cursor.fetchall()}
    out = {}
    for meter_id, (start, end) in ranges.items():
        stats = Reading.objects.filter(meter_id=meter_id, timestamp__gte=start, timestamp__lte=end).aggregate(
            n=Count("id"), first=Min("timestamp"), last=Max("timestamp")
        )
        if stats["n"]:
            out[meter_id] = (stats["n"], stats["first"], stats["last"])
    return out


def gaps_find(*, meter_id: int, start: dt.datetime, end: dt.datetime, step: dt.timedelta) -> list[Gap]:
    """Missing intervals of one meter between its readings in [start, end]."""
    stamps = list(
        Reading.objects.filter(meter_id=meter_id, timestamp__gte=start, timestamp__lte=end)
        .order_by("timestamp")
        .values_list("timestamp", flat=True)
    )
    if len(stamps) < 2:
        return []
    seconds = np.array([stamp.timestamp() for stamp in stamps], dtype=np.int64)
    jumps = np.flatnonzero(np.diff(seconds) > step.total_seconds())
    limit = gap_fill_limit()
    gaps = []
    for index in jumps:
        gap_start, gap_end = stamps[index] + step, stamps[index + 1]
        missing = int((gap_end - gap_start) / step)
        gaps.append(Gap(meter_id, gap_start, gap_end, missing, filled=(gap_end - gap_start) <= limit))
    return gaps


def _profile(meter_id: int, before: dt.datetime, tz: ZoneInfo) -> dict[tuple[int, int], float]:
    sums: dict[tuple[int, int], list[float]] = {}
    for hour, kwh, readings in HourlyRollup.objects.filter(
        meter_id=meter_id, hour__gte=before - dt.timedelta(days=PROFILE_DAYS), hour__lt=before, readings__gt=0
    ).values_list("hour", "kwh", "readings"):
        local = hour.astimezone(tz)
        acc = sums.setdefault((local.weekday(), local.hour), [0.0, 0.0])
        acc[0] += kwh
        acc[1] += readings
    return {key: total / count for key, (total, count) in sums.items() if count}


def _estimates(gap: Gap, step: dt.timedelta, tz: ZoneInfo) -> list[Reading]:
    before = Reading.objects.filter(meter_id=gap.meter_id, timestamp=gap.start - step).values_list("kwh", flat=True)
    after = Reading.objects.filter(meter_id=gap.meter_id, timestamp=gap.end).values_list("kwh", flat=True)
    left, right = (before.first() or 0.0), (after.first() or 0.0)
    profile = _profile(gap.meter_id, gap.start, tz)

    def typical(moment: dt.datetime) -> float | None:
        local = moment.astimezone(tz)
        return profile.get((local.weekday(), local.hour))

    edge = [typical(gap.start - step), typical(gap.end)]
    scale = 1.0
    if all(value is not None and value > 0 for value in edge):
        scale = min(5.0, max(0.2, (left + right) / (edge[0] + edge[1])))  # type: ignore[operator]
    readings = []
    for k in range(gap.missing):
        moment = gap.start + k * step
        base = typical(moment)
        if base is None:
            weight = (k + 1) / (gap.missing + 1)
            value = left + (right - left) * weight
        else:
            value = base * scale
        readings.append(
            Reading(meter_id=gap.meter_id, timestamp=moment, kwh=max(0.0, value), quality=Quality.ESTIMATED)
        )
    return readings


def gaps_fill(*, ranges: Mapping[int, MeterRange]) -> tuple[list[Gap], int]:
    """Find gaps around what a batch wrote; fill the short ones. Returns (gaps, estimates written)."""
    if not ranges:
        return [], 0
    # (interval minutes, site time zone) per meter: plain values, not three model instances a meter.
    meters = {
        pk: (interval, timezone)
        for pk, interval, timezone in Meter.objects.filter(id__in=list(ranges)).values_list(
            "id", "interval_minutes", "hostel__site__timezone"
        )
    }
    limit = gap_fill_limit()
    spans = {
        meter_id: (span.start - limit - dt.timedelta(minutes=meters[meter_id][0]), span.end)
        for meter_id, span in ranges.items()
        if meter_id in meters
    }
    gaps: list[Gap] = []
    estimates: list[Reading] = []
    for meter_id, (count, first, last) in _counts(spans).items():
        interval, timezone = meters[meter_id]
        step = dt.timedelta(minutes=interval)
        if count >= int((last - first) / step) + 1:
            continue
        tz = ZoneInfo(timezone or "UTC")
        found = gaps_find(meter_id=meter_id, start=first, end=last, step=step)
        gaps.extend(found)
        for gap in found:
            if gap.filled:
                estimates.extend(_estimates(gap, step, tz))
                ranges[meter_id].widen(gap.start, gap.end)
    Reading.objects.bulk_create(estimates, ignore_conflicts=True, batch_size=1000)
    return gaps, len(estimates)
