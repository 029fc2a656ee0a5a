"""What a building's days look like: hourly profiles of its complete days, its learned weekend, its calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from meters.ingest.zeros import real_zeros
from meters.models import AcademicPeriod, Meter
from predictions.detection.days.model import day_bounds
from predictions.detection.frames import MeterInfo


def building_meter_ids(*, infos: dict[int, MeterInfo]) -> list[int]:
    """Meters with a building's load (mains, feeders); rooms keep their occupancy-aware detection."""
    return [i for i, info in infos.items() if info.kind in (Meter.Kind.HOSTEL_MAIN, Meter.Kind.FEEDER)]


def day_profiles(*, readings: pd.DataFrame, tz: str, interval_minutes: int, min_coverage: float) -> pd.DataFrame:
    """kWh per local hour (24 columns) of each day with enough readings; zeros and gaps are missing.

    `readings` has columns ts (UTC) and kwh. Hours without a reading are interpolated from their
    neighbours within the day, so a day's total is comparable whatever the interval and the gaps.
    """
    data = readings[["ts", "kwh"]].dropna().sort_values("ts")
    # An exact 0 is a missing reading (a building never truly uses nothing), unless the load reached it:
    # a net meter whose solar panels covered the building at midday, a tiny load rounded down (real_zeros).
    kwh = data["kwh"].to_numpy(dtype=float)
    data = data[(kwh > 0) | real_zeros(kwh=kwh, interval_minutes=interval_minutes)]
    if data.empty:
        return pd.DataFrame(columns=range(24), dtype=float)
    local = pd.to_datetime(data["ts"], utc=True).dt.tz_convert(ZoneInfo(tz))
    per_hour = 60.0 / interval_minutes
    frame = pd.DataFrame({"day": local.dt.date, "hour": local.dt.hour, "kwh": data["kwh"].to_numpy() * per_hour})
    counts = frame.groupby("day").size()
    hours_in_day = pd.Series({day: _day_hours(day, tz) for day in counts.index})
    coverage = counts / (hours_in_day * per_hour)
    keep = coverage[coverage >= min_coverage].index
    frame = frame[frame["day"].isin(set(keep))]
    if frame.empty:
        return pd.DataFrame(columns=range(24), dtype=float)
    table = frame.pivot_table(index="day", columns="hour", values="kwh", aggfunc="mean")
    table = table.reindex(columns=range(24))
    table = table.T.interpolate(limit_direction="both").T
    return table.sort_index()


def _day_hours(day: dt.date, tz: str) -> float:
    start, end = day_bounds(day, ZoneInfo(tz))
    return (end - start).total_seconds() / 3600.0


def closed_weekdays(*, profiles: pd.DataFrame, holidays: set[dt.date], min_separation: float) -> frozenset[int]:
    """The building's closed weekdays, learned, not assumed: a Saturday-and-Sunday weekend, a Friday-and-Saturday
    one, a shop closed on Sundays only.

    Each weekday's median daily total (calendar holidays left out, at least two of each weekday); sorted, the
    widest step between neighbours (as a ratio) splits them, and the weekdays below it are closed when they use
    less than `min_separation` of the lowest above it. Otherwise none: the building has no clear working week.
    """
    totals = profiles.sum(axis=1)
    totals = totals[[day not in holidays for day in totals.index]]
    weekdays = pd.Series([day.weekday() for day in totals.index], index=totals.index)
    counts = weekdays.value_counts()
    if len(counts) < 7 or counts.min() < 2:
        return frozenset()
    medians = totals.groupby(weekdays).median().sort_values()
    values = medians.to_numpy(dtype=float)
    if values[0] <= 0:
        return frozenset()
    steps = values[1:] / values[:-1]
    cut = int(np.argmax(steps)) + 1
    if values[cut - 1] >= min_separation * values[cut]:
        return frozenset()
    return frozenset(int(weekday) for weekday in medians.index[:cut])


def calendar_dates(*, site_id: int | None, start: dt.date, end: dt.date, kind: str) -> set[dt.date]:
    """Days in [start, end] inside periods of this kind in the site's calendar."""
    if not site_id:
        return set()
    days: set[dt.date] = set()
    periods = AcademicPeriod.objects.filter(site_id=site_id, kind=kind, start__lte=end, end__gte=start).values_list(
        "start", "end"
    )
    for p_start, p_end in periods:
        day = max(p_start, start)
        while day <= min(p_end, end):
            days.add(day)
            day += dt.timedelta(days=1)
    return days
