"""Main meter above the sum of its rooms: the common load (main minus rooms) against its own usual level.

Works on hourly rollups (kept by ingestion); a meter without rollups is summed from its readings.
Only hours where every room meter reported are compared, so a late room does not look like a leak.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Count, Sum
from django.db.models.functions import TruncHour

from meters.models import HourlyRollup, Meter, Reading

LOOKBACK_DAYS = 28
MIN_HOURS = 2


@dataclass
class ImbalanceFinding:
    """Hours in which a hostel's main meter drew clearly more than its rooms plus the usual common load."""

    meter_id: int
    start: dt.datetime
    end: dt.datetime
    score: float
    expected_kwh: float
    actual_kwh: float


def _hourly(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    rows = list(
        HourlyRollup.objects.filter(meter_id__in=meter_ids, hour__gte=start, hour__lt=end).values_list(
            "meter_id", "hour", "kwh"
        )
    )
    covered = {m for m, _, _ in rows}
    missing = [m for m in meter_ids if m not in covered]
    if missing:
        rows += [
            (r["meter_id"], r["bucket"], r["total"])
            for r in Reading.objects.filter(meter_id__in=missing, timestamp__gte=start, timestamp__lt=end)
            .annotate(bucket=TruncHour("timestamp", tzinfo=dt.UTC))
            .values("meter_id", "bucket")
            .annotate(total=Sum("kwh"), n=Count("id"))
        ]
    frame = pd.DataFrame(rows, columns=["meter_id", "hour", "kwh"])
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    return frame


def imbalance_findings(
    *,
    hostel_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
    lookback_days: int = LOOKBACK_DAYS,
    k: float = 6.0,
) -> list[ImbalanceFinding]:
    """Imbalance incidents of these hostels' main meters that touch [start, end)."""
    findings: list[ImbalanceFinding] = []
    meters = Meter.objects.filter(hostel_id__in=list(hostel_ids), removed_at__isnull=True).values_list(
        "id", "hostel_id", "kind"
    )
    by_hostel: dict[int, tuple[list[int], list[int]]] = {}
    for meter_id, hostel_id, kind in meters:
        mains, rooms = by_hostel.setdefault(hostel_id, ([], []))
        (mains if kind == Meter.Kind.HOSTEL_MAIN else rooms if kind == Meter.Kind.ROOM else []).append(meter_id)
    window_start = start - dt.timedelta(days=lookback_days)
    for mains, rooms in by_hostel.values():
        if not mains or not rooms:
            continue
        hourly = _hourly(meter_ids=mains + rooms, start=window_start, end=end)
        if hourly.empty:
            continue
        room_rows = hourly[hourly["meter_id"].isin(rooms)]
        room_sum = room_rows.groupby("hour")["kwh"].agg(["sum", "count"])
        complete = room_sum[room_sum["count"] == len(rooms)]["sum"]
        for main in mains:
            series = hourly[hourly["meter_id"] == main].set_index("hour")["kwh"]
            common = (series - complete).dropna()
            if len(common) < 48:
                continue
            hod = pd.DatetimeIndex(common.index).hour
            usual = common.groupby(hod).median()
            expected = usual.reindex(hod).to_numpy()
            residual = common.to_numpy() - expected
            sigma = max(float(1.4826 * np.median(np.abs(residual - np.median(residual)))), 0.02)
            floor = 0.05 * float(series.median())  # measured on the development campus: 0.15 missed both incidents
            flagged = residual > max(k * sigma, floor)
            index = common.index
            i = 0
            n = len(flagged)
            while i < n:
                if not flagged[i]:
                    i += 1
                    continue
                j = i
                while j + 1 < n and (flagged[j + 1] or (j + 2 < n and flagged[j + 2])):
                    j += 1
                hours = j - i + 1
                run_end = index[j] + pd.Timedelta(hours=1)
                if hours >= MIN_HOURS and run_end > pd.Timestamp(start):
                    strength = float(residual[i : j + 1].max() / max(k * sigma, floor))
                    findings.append(
                        ImbalanceFinding(
                            meter_id=main,
                            start=index[i].to_pydatetime(),
                            end=run_end.to_pydatetime(),
                            score=float(1.0 - 0.5 * np.exp(-(strength - 1.0))),
                            expected_kwh=float(series.loc[index[i : j + 1]].sum() - residual[i : j + 1].sum()),
                            actual_kwh=float(series.loc[index[i : j + 1]].sum()),
                        )
                    )
                i = j + 1
    return findings
