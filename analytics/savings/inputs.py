"""What a savings baseline reads: a meter's, hostel's or site's hourly load with its weather,
occupancy and academic calendar (selectors over predictions' series readers)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db.models import Q

from analytics.models import Intervention
from analytics.savings.model import SavingsError, SavingsInputs
from meters.models import AcademicPeriod, Hostel, Meter, Occupancy, Room, Site
from meters.selectors.rollups import rollup_hour_span
from predictions.forecasting.series import (
    Subject,
    hostel_occupancy,
    meter_hourly,
    rollup_sum,
    site_weather,
    subject_meter_ids,
    zeros_as_missing,
)


def site_calendar(*, site_id: int) -> list[tuple[str, dt.date, dt.date]]:
    return [
        (str(kind), start, end)
        for kind, start, end in AcademicPeriod.objects.filter(site_id=site_id).values_list("kind", "start", "end")
    ]


def room_occupancy(*, room: Room, start: dt.datetime, end: dt.datetime) -> pd.Series | None:
    """Share of the room's beds occupied each hour; None without a roster."""
    periods = list(
        Occupancy.objects.filter(room=room, start__lt=end)
        .filter(Q(end__isnull=True) | Q(end__gt=start))
        .values_list("start", "end", "occupants")
    )
    if not periods or not room.capacity:
        return None
    grid = pd.date_range(pd.Timestamp(start).floor("h"), pd.Timestamp(end).floor("h"), freq="h")
    values = np.zeros(len(grid))
    for first, last, occupants in periods:
        i = int(grid.searchsorted(pd.Timestamp(first)))
        j = len(grid) if last is None else int(grid.searchsorted(pd.Timestamp(last)))
        values[i:j] += occupants
    return pd.Series(values / room.capacity, index=grid)


def _only_site() -> Site | None:
    sites = list(Site.objects.all()[:2])
    return sites[0] if len(sites) == 1 else None


def _span(load: pd.Series) -> tuple[dt.datetime, dt.datetime]:
    return load.index.min().to_pydatetime(), load.index.max().to_pydatetime() + dt.timedelta(hours=1)


def _inputs(*, load: pd.Series, site: Site | None, occupancy: pd.Series | None, label: str) -> SavingsInputs:
    if load.dropna().empty:
        raise SavingsError(f"{label} has no readings")
    start, end = _span(load)
    return SavingsInputs(
        load=zeros_as_missing(load),
        timezone=site.timezone if site else "UTC",
        temperature=site_weather(site_id=site.pk, start=start, end=end) if site else None,
        occupancy=occupancy,
        calendar=site_calendar(site_id=site.pk) if site else [],
        label=label,
    )


def savings_inputs_for_meter(*, serial: str) -> SavingsInputs:
    meter = Meter.objects.select_related("hostel__site", "room").filter(serial=serial).first()
    if meter is None:
        raise SavingsError(f"unknown meter {serial!r}")
    label = f"meter {serial}"
    load = meter_hourly(meter=meter)
    if load.dropna().empty:
        raise SavingsError(f"{label} has no readings")
    site = meter.hostel.site if meter.hostel_id else _only_site()
    start, end = _span(load)
    occupancy = None
    if meter.room_id:
        occupancy = room_occupancy(room=meter.room, start=start, end=end)
    elif meter.hostel_id:
        occupancy = hostel_occupancy(hostel_ids=[meter.hostel_id], start=start, end=end)
    return _inputs(load=load, site=site, occupancy=occupancy, label=label)


def _load_for(meter_ids: list[int], label: str) -> pd.Series:
    """Hourly kWh summed over the meters: from rollups, or (none yet, e.g. right after a bulk import) from
    each meter's readings, an hour counting only when every meter has it."""
    if not meter_ids:
        raise SavingsError(f"{label} has no meters")
    first, last = rollup_hour_span(meters=Meter.objects.filter(pk__in=meter_ids))
    if first is not None and last is not None:
        return rollup_sum(meter_ids=meter_ids, start=first, end=last + dt.timedelta(hours=1))
    series = [meter_hourly(meter=meter) for meter in Meter.objects.filter(pk__in=meter_ids)]
    series = [s for s in series if not s.empty]
    if not series:
        raise SavingsError(f"{label} has no readings")
    return pd.concat(series, axis=1).sum(axis=1, min_count=len(meter_ids)).astype(float)


def savings_inputs_for_hostel(*, hostel_id: int) -> SavingsInputs:
    hostel = Hostel.objects.select_related("site").filter(pk=hostel_id).first()
    if hostel is None:
        raise SavingsError(f"unknown hostel id {hostel_id}")
    label = f"hostel {hostel.code} (id {hostel.pk})"
    load = _load_for(subject_meter_ids(Subject("hostel", hostel.pk, hostel.code, hostel.site_id)), label)
    start, end = _span(load)
    occupancy = hostel_occupancy(hostel_ids=[hostel.pk], start=start, end=end)
    return _inputs(load=load, site=hostel.site, occupancy=occupancy, label=label)


def savings_inputs_for_site(*, code: str) -> SavingsInputs:
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise SavingsError(f"unknown site code {code!r}")
    label = f"site {code}"
    hostel_ids = list(Hostel.objects.filter(site=site).values_list("pk", flat=True))
    load = _load_for(subject_meter_ids(Subject("site", site.pk, site.code, site.pk)), label)
    start, end = _span(load)
    occupancy = hostel_occupancy(hostel_ids=hostel_ids, start=start, end=end) if hostel_ids else None
    return _inputs(load=load, site=site, occupancy=occupancy, label=label)


def comparison_candidates(
    *, site_id: int, hostel_id: int | None, intervention: dt.date, until: dt.date | None
) -> dict[str, pd.Series]:
    """Hourly kWh of the site's other hostels that no logged intervention touched from a year before
    `intervention` to `until` (a site-wide one touches them all): the comparison buildings a baseline may use."""
    window = _in_force(intervention=intervention, until=until)
    touched = Intervention.objects.filter(window)
    if touched.filter(site_id=site_id).exists():
        return {}
    excluded = {*touched.values_list("hostel_id", flat=True), *touched.values_list("meter__hostel_id", flat=True)}
    candidates = {}
    for hostel in Hostel.objects.filter(site_id=site_id).exclude(pk=hostel_id).exclude(pk__in=excluded - {None}):
        meter_ids = subject_meter_ids(Subject("hostel", hostel.pk, hostel.code, hostel.site_id))
        if not meter_ids:
            continue
        try:
            load = _load_for(meter_ids, f"hostel {hostel.code}")
        except SavingsError:
            continue
        candidates[f"hostel {hostel.code} (id {hostel.pk})"] = zeros_as_missing(load)
    return candidates


def _in_force(*, intervention: dt.date, until: dt.date | None) -> Q:
    """Interventions in force at some time from a year before `intervention` to `until`."""
    window = Q(start__gte=intervention - dt.timedelta(days=365))
    return window & Q(start__lte=until) if until else window
