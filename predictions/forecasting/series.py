"""Hourly series for forecasting, read from rollups (never raw readings, except as a fallback for a
single meter that has readings but no rollups yet, e.g. right after a bulk import)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Count, Q

from customers.models import Transformer
from meters.models import AcademicPeriod, Hostel, HourlyRollup, Meter, Occupancy, Reading, Room, Site, Weather
from predictions.ml.forecasting import SeriesInputs

HOLIDAY_KINDS = (AcademicPeriod.Kind.VACATION, AcademicPeriod.Kind.HOLIDAY, AcademicPeriod.Kind.EXAMS)
# An hour counts as observed when at least this share of a subject's meters reported it.
COVERAGE = 0.9


@dataclass(frozen=True)
class Subject:
    """Something we forecast: a hostel, a transformer or a whole site."""

    kind: str  # "hostel" | "transformer" | "site"
    pk: int
    code: str
    site_id: int | None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.code}"


def transformer_site_id(transformer_id: int) -> int | None:
    """The site whose weather a transformer sees: its hostels' site, else the estate's only site.

    A transformer feeding only feeders (staff houses, shops) has no hostel; on a one-site estate it
    stands on that site all the same.
    """
    site_id = (
        Meter.objects.filter(transformer_id=transformer_id, hostel__isnull=False)
        .values_list("hostel__site_id", flat=True)
        .first()
    )
    if site_id is None:
        sites = list(Site.objects.values_list("pk", flat=True)[:2])
        site_id = sites[0] if len(sites) == 1 else None
    return site_id


def subjects_all() -> list[Subject]:
    """Every hostel, transformer with meters, and site with hostels."""
    subjects = [Subject("hostel", h.pk, h.code, h.site_id) for h in Hostel.objects.order_by("pk")]
    for transformer in Transformer.objects.annotate(n=Count("meters")).filter(n__gt=0).order_by("pk"):
        subjects.append(Subject("transformer", transformer.pk, transformer.code, transformer_site_id(transformer.pk)))
    for site in Site.objects.annotate(n=Count("hostels")).filter(n__gt=0).order_by("pk"):
        subjects.append(Subject("site", site.pk, site.code, site.pk))
    return subjects


def _hostel_meter_ids(hostel_ids: list[int]) -> list[int]:
    """A hostel's main meters where it has them, else its room meters (never both: no double count)."""
    ids: list[int] = []
    for hostel_id in hostel_ids:
        meters = Meter.objects.filter(hostel_id=hostel_id).exclude(kind=Meter.Kind.VIRTUAL)
        main = list(meters.filter(kind=Meter.Kind.HOSTEL_MAIN).values_list("pk", flat=True))
        ids += main or list(meters.filter(kind=Meter.Kind.ROOM).values_list("pk", flat=True))
    return ids


def subject_meter_ids(subject: Subject) -> list[int]:
    if subject.kind == "hostel":
        return _hostel_meter_ids([subject.pk])
    if subject.kind == "site":
        return _hostel_meter_ids(list(Hostel.objects.filter(site_id=subject.pk).values_list("pk", flat=True)))
    meters = Meter.objects.filter(transformer_id=subject.pk).exclude(kind=Meter.Kind.VIRTUAL)
    upstream = list(meters.exclude(kind=Meter.Kind.ROOM).values_list("pk", flat=True))
    return upstream or list(meters.values_list("pk", flat=True))


def rollup_sum(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime) -> pd.Series:
    """Hourly kWh summed over meters, NaN where too few meters reported (scaled up when a few miss)."""
    grid = pd.date_range(pd.Timestamp(start).floor("h"), pd.Timestamp(end).floor("h"), freq="h", inclusive="left")
    if not meter_ids or len(grid) == 0:
        return pd.Series(np.nan, index=grid, dtype=float)
    rows = (
        HourlyRollup.objects.filter(meter_id__in=meter_ids, hour__gte=start, hour__lt=end)
        .values_list("hour", "kwh")
        .iterator(chunk_size=20_000)
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["hour", "kwh"])
    if frame.empty:
        return pd.Series(np.nan, index=grid, dtype=float)
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    grouped = frame.groupby("hour")["kwh"].agg(["sum", "count"]).reindex(grid)
    share = grouped["count"] / len(meter_ids)
    total = grouped["sum"] / share
    return total.where(share >= COVERAGE).astype(float)


def meter_hourly(*, meter: Meter, start: dt.datetime | None = None, end: dt.datetime | None = None) -> pd.Series:
    """One meter's hourly kWh: from its rollups, or (no rollups yet) its readings summed per hour."""
    rollups = HourlyRollup.objects.filter(meter=meter)
    readings = Reading.objects.filter(meter=meter)
    if start:
        rollups, readings = rollups.filter(hour__gte=start), readings.filter(timestamp__gte=start)
    if end:
        rollups, readings = rollups.filter(hour__lt=end), readings.filter(timestamp__lt=end)
    records = list(rollups.values_list("hour", "kwh"))
    if not records:
        records = list(readings.values_list("timestamp", "kwh"))
    if not records:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    frame = pd.DataFrame.from_records(records, columns=["at", "kwh"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.floor("h")
    series = frame.groupby("at")["kwh"].sum()
    return series.reindex(pd.date_range(series.index.min(), series.index.max(), freq="h")).astype(float)


def zeros_as_missing(series: pd.Series) -> pd.Series:
    """Exact zeros are gaps filled by an upstream system when a meter otherwise never reads zero."""
    values = series.dropna()
    if values.empty:
        return series
    zero_share = float((values == 0).mean())
    if 0 < zero_share < 0.1 and float(values[values > 0].quantile(0.01)) > 0:
        return series.mask(series == 0)
    return series


def site_weather(*, site_id: int | None, start: dt.datetime, end: dt.datetime) -> pd.Series | None:
    if site_id is None:
        return None
    rows = list(
        Weather.objects.filter(site_id=site_id, timestamp__gte=start, timestamp__lt=end).values_list(
            "timestamp", "temperature_c"
        )
    )
    if not rows:
        return None
    frame = pd.DataFrame.from_records(rows, columns=["at", "temp"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.floor("h")
    return frame.groupby("at")["temp"].mean()


def site_holidays(*, site_id: int | None) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    if site_id is None:
        return []
    periods = AcademicPeriod.objects.filter(site_id=site_id, kind__in=HOLIDAY_KINDS)
    return [(p.kind, pd.Timestamp(p.start), pd.Timestamp(p.end)) for p in periods]


def hostel_occupancy(*, hostel_ids: list[int], start: dt.datetime, end: dt.datetime) -> pd.Series | None:
    """Share of beds occupied each hour, from occupancy rosters; None when there is no roster."""
    capacity = sum(Room.objects.filter(hostel_id__in=hostel_ids).values_list("capacity", flat=True))
    periods = list(
        Occupancy.objects.filter(room__hostel_id__in=hostel_ids, start__lt=end)
        .filter(Q(end__isnull=True) | Q(end__gt=start))
        .values_list("start", "end", "occupants")
    )
    if not capacity or not periods:
        return None
    grid = pd.date_range(pd.Timestamp(start).floor("h"), pd.Timestamp(end).floor("h"), freq="h")
    delta = np.zeros(len(grid) + 1)
    for first, last, occupants in periods:
        i = int(grid.searchsorted(pd.Timestamp(first)))
        j = len(grid) if last is None else int(grid.searchsorted(pd.Timestamp(last)))
        delta[i] += occupants
        delta[j] -= occupants
    return pd.Series(np.cumsum(delta)[:-1] / capacity, index=grid)


def subject_inputs(*, subject: Subject, start: dt.datetime, end: dt.datetime, future_hours: int = 0) -> SeriesInputs:
    """Load, weather, occupancy and calendar for one subject, ready for the forecaster."""
    site = Site.objects.filter(pk=subject.site_id).first() if subject.site_id else None
    load = zeros_as_missing(rollup_sum(meter_ids=subject_meter_ids(subject), start=start, end=end))
    ahead = end + dt.timedelta(hours=future_hours + 24 * 32)
    hostel_ids: list[int] = []
    if subject.kind == "hostel":
        hostel_ids = [subject.pk]
    elif subject.kind == "site":
        hostel_ids = list(Hostel.objects.filter(site_id=subject.pk).values_list("pk", flat=True))
    return SeriesInputs(
        load=load,
        timezone=site.timezone if site else "UTC",
        temperature=site_weather(site_id=subject.site_id, start=start, end=ahead),
        occupancy=hostel_occupancy(hostel_ids=hostel_ids, start=start, end=ahead) if hostel_ids else None,
        holidays=site_holidays(site_id=subject.site_id),
    )
