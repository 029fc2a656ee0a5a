"""Insights per hostel, site and room: baseload, out-of-hours use, vacation against term, week-on-week and
year-on-year change, each with what it costs and emits in a year.

The figures are pure functions of hourly or daily kWh (tested with known answers); `insights_for` loads
rollups of one subject, normalizes for weather and occupancy where that applies, and prices the result
with the subject's tariffs and carbon intensity. How each figure is made: docs/insights.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import timezone

from analytics.selectors.carbon import carbon_kg_for, price_per_kwh_for
from analytics.selectors.energy_figures import (
    Change,
    Hour,
    Period,
    Week,
    baseload_of,
    hostel_is_day,
    out_of_hours_of,
    vacation_comparison_of,
)
from analytics.selectors.weather import WeatherFit, degree_days, weather_fits
from meters.models import AcademicPeriod, DailyRollup, Hostel, HourlyRollup, Meter, Occupancy, Room, Site

WINDOW_DAYS = 28  # baseload and out-of-hours: the last four whole weeks
HOURS_PER_YEAR = 8760.0


# ---- loading a subject ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What an insight is about: a hostel, a room, or a site's visible hostels together."""

    kind: str  # "hostel" | "room" | "site"
    id: int
    label: str
    site: Site
    meter_ids: list[int]
    hostels: list[Hostel]
    occupancy: Q  # Occupancy rows of the subject's rooms
    is_open: Callable[[dt.datetime], bool]
    hours_label: str
    tariff_hostel: Hostel | None = None


def energy_meter_ids(hostel_ids: Sequence[int]) -> list[int]:
    """Meters whose sum is these hostels' energy without double counting: the main meter, else the rooms."""
    rows = list(
        Meter.objects.filter(
            hostel_id__in=list(hostel_ids), kind__in=[Meter.Kind.HOSTEL_MAIN, Meter.Kind.ROOM]
        ).values_list("pk", "kind", "hostel_id")
    )
    with_main = {hostel for _, kind, hostel in rows if kind == Meter.Kind.HOSTEL_MAIN}
    return [pk for pk, kind, hostel in rows if kind == Meter.Kind.HOSTEL_MAIN or hostel not in with_main]


def subject_for_hostel(hostel: Hostel) -> Subject:
    return Subject(
        kind="hostel",
        id=hostel.pk,
        label=hostel.name,
        site=hostel.site,
        meter_ids=energy_meter_ids([hostel.pk]),
        hostels=[hostel],
        occupancy=Q(room__hostel_id=hostel.pk),
        is_open=hostel_is_day,
        hours_label="night (23:00 to 07:00)",
        tariff_hostel=hostel,
    )


def subject_for_room(room: Room) -> Subject:
    return Subject(
        kind="room",
        id=room.pk,
        label=f"Room {room.number}",
        site=room.hostel.site,
        meter_ids=list(Meter.objects.filter(room_id=room.pk, kind=Meter.Kind.ROOM).values_list("pk", flat=True)),
        hostels=[],
        occupancy=Q(room_id=room.pk),
        is_open=hostel_is_day,
        hours_label="night (23:00 to 07:00)",
        tariff_hostel=room.hostel,
    )


def subject_for_site(site: Site, hostels: Sequence[Hostel]) -> Subject:
    ids = [h.pk for h in hostels]
    return Subject(
        kind="site",
        id=site.pk,
        label=site.name,
        site=site,
        meter_ids=energy_meter_ids(ids),
        hostels=list(hostels),
        occupancy=Q(room__hostel_id__in=ids),
        is_open=site.is_open,
        hours_label=f"outside opening hours ({site.opens_at:%H:%M} to {site.closes_at:%H:%M}"
        + (", every day)" if site.open_weekends else ", weekdays)"),
        tariff_hostel=hostels[0] if hostels else None,
    )


def _local_bounds(site: Site, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = site.tz
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz).astimezone(dt.UTC),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz).astimezone(dt.UTC),
    )


def subject_hours(subject: Subject, start: dt.date, end: dt.date) -> list[Hour]:
    """Hourly kWh of the subject's meters over whole local days, as (local hour, kWh), oldest first."""
    first, last = _local_bounds(subject.site, start, end)
    rows = (
        HourlyRollup.objects.filter(meter_id__in=subject.meter_ids, hour__gte=first, hour__lt=last)
        .values("hour")
        .annotate(kwh=Sum("kwh"))
        .order_by("hour")
    )
    tz = subject.site.tz
    return [(row["hour"].astimezone(tz), float(row["kwh"] or 0.0)) for row in rows]


def subject_daily(subject: Subject, start: dt.date, end: dt.date) -> dict[dt.date, float]:
    rows = (
        DailyRollup.objects.filter(meter_id__in=subject.meter_ids, day__gte=start, day__lte=end)
        .values("day")
        .annotate(kwh=Sum("kwh"))
        .order_by()
    )
    return {row["day"]: float(row["kwh"] or 0.0) for row in rows}


OccupancyRow = tuple[dt.datetime, dt.datetime | None, int]


def occupancy_rows(occupancy: Q, start: dt.date, end: dt.date) -> list[OccupancyRow]:
    first = dt.datetime.combine(start, dt.time(12), tzinfo=dt.UTC)
    last = dt.datetime.combine(end, dt.time(12), tzinfo=dt.UTC)
    rows = Occupancy.objects.filter(occupancy, start__lte=last).filter(Q(end__isnull=True) | Q(end__gt=first))
    return list(rows.values_list("start", "end", "occupants"))


def bed_days_of(rows: Sequence[OccupancyRow], start: dt.date, end: dt.date) -> float:
    """Occupied beds counted at noon UTC of each day in [start, end], summed over the days."""
    total = 0.0
    for begin, finish, occupants in rows:
        day = start
        while day <= end:
            noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
            if begin <= noon and (finish is None or finish > noon):
                total += occupants
            day += dt.timedelta(days=1)
    return total


def bed_days(occupancy: Q, start: dt.date, end: dt.date) -> float:
    """Occupied bed-days of the subject's rooms in [start, end] (one query)."""
    return bed_days_of(occupancy_rows(occupancy, start, end), start, end)


HISTORY_DAYS = 430  # a year and a vacation: enough for year-on-year and last year's vacation


@dataclass(frozen=True)
class SubjectHistory:
    """A subject's daily energy, occupancy and weather over HISTORY_DAYS before `today`, loaded once."""

    subject: Subject
    today: dt.date
    daily: dict[dt.date, float]
    occupancy: list[OccupancyRow]
    fits: dict[int, WeatherFit | None]
    degree_days: dict[dt.date, tuple[float, float]]

    def kwh(self, start: dt.date, end: dt.date) -> float:
        return sum(kwh for day, kwh in self.daily.items() if start <= day <= end)

    def bed_days(self, start: dt.date, end: dt.date) -> float:
        return bed_days_of(self.occupancy, start, end)

    def week(self, start: dt.date) -> Week:
        """Seven local days from `start`: energy, the same in average weather (hostels and sites), bed-days."""
        end = start + dt.timedelta(days=6)
        kwh = self.kwh(start, end)
        weather: float | None = None
        values = [value for day, value in sorted(self.degree_days.items()) if start <= day <= end]
        hostel_fits = [self.fits.get(h.pk) for h in self.subject.hostels]
        if self.subject.hostels and values and all(fit is not None for fit in hostel_fits):
            # Each hostel's degree-day slopes, applied to the site's degree-days of the week, summed.
            hdd, cdd, n = sum(h for h, _ in values), sum(c for _, c in values), len(values)
            correction = sum(
                fit.kwh_per_heating_degree_day * (hdd - n * fit.mean_hdd)
                + fit.kwh_per_cooling_degree_day * (cdd - n * fit.mean_cdd)
                for fit in hostel_fits
                if fit is not None
            )
            weather = max(kwh - correction, 0.0)
        beds = self.bed_days(start, end)
        return Week(start=start, end=end, kwh=kwh, kwh_weather=weather, bed_days=beds or None)


def subject_history(subject: Subject, *, today: dt.date) -> SubjectHistory:
    """Load a subject's history in a handful of queries whatever the number of weeks asked of it."""
    yesterday = today - dt.timedelta(days=1)
    start = today - dt.timedelta(days=HISTORY_DAYS)
    fits: dict[int, WeatherFit | None] = {}
    degree: dict[dt.date, tuple[float, float]] = {}
    if subject.hostels:
        fits, _ = weather_fits(hostels=subject.hostels, today=today, period=(yesterday, yesterday))
        degree = degree_days(site_id=subject.site.pk, timezone=subject.site.timezone, start=start, end=yesterday)
    return SubjectHistory(
        subject=subject,
        today=today,
        daily=subject_daily(subject, start, yesterday),
        occupancy=occupancy_rows(subject.occupancy, start, yesterday),
        fits=fits,
        degree_days=degree,
    )


def subject_week(subject: Subject, start: dt.date, *, today: dt.date) -> Week:
    """One week of a subject (loads its history: use subject_history for several weeks)."""
    return subject_history(subject, today=today).week(start)


def subject_periods(subject: Subject) -> list[Period]:
    return [
        Period(kind=p.kind, name=p.name, start=p.start, end=p.end)
        for p in AcademicPeriod.objects.filter(site_id=subject.site.pk).order_by("start")
    ]


# ---- insights -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Insight:
    """One finding about a subject, with what it is worth in a year."""

    key: str  # baseload | out_of_hours | vacation | week_on_week | year_on_year
    title: str
    summary: str
    value: float | None
    unit: str
    kwh_per_year: float | None
    cost_per_year: float | None
    currency: str
    kg_co2_per_year: float | None
    normalized: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


def _priced(subject: Subject, kwh_per_year: float | None, price: float | None) -> dict[str, Any]:
    return {
        "kwh_per_year": kwh_per_year,
        "cost_per_year": kwh_per_year * price if kwh_per_year is not None and price is not None else None,
        "currency": subject.site.currency,
        "kg_co2_per_year": carbon_kg_for(kwh=kwh_per_year, site=subject.site) if kwh_per_year is not None else None,
    }


def _pct(value: float) -> str:
    return f"{value * 100:+.0f} %"


INSIGHTS_CACHE_SECONDS = 3600  # they read whole days only: an hour old is as good as new


def insights_for(*, subject: Subject, today: dt.date | None = None) -> list[Insight]:
    """Every insight of one subject, computed up to yesterday (local); one missing for lack of data is left out.

    Kept for an hour per subject, its meters and day (pages, API, league and digest share it)."""
    today = today or timezone.localdate(timezone.now(), subject.site.tz)
    meters = hashlib.sha256(",".join(map(str, sorted(subject.meter_ids))).encode()).hexdigest()[:16]
    key = f"analytics:insights:{subject.kind}:{subject.id}:{meters}:{today.isoformat()}"
    cached = cache.get(key)
    if cached is None:
        cached = _insights(subject=subject, today=today)
        cache.set(key, cached, INSIGHTS_CACHE_SECONDS)
    return list(cached)


def _insights(*, subject: Subject, today: dt.date) -> list[Insight]:
    yesterday = today - dt.timedelta(days=1)
    start = today - dt.timedelta(days=WINDOW_DAYS)
    hours = subject_hours(subject, start, yesterday)
    price = price_per_kwh_for(meter_ids=subject.meter_ids, hostel=subject.tariff_hostel)
    result: list[Insight] = []
    history = subject_history(subject, today=today)
    beds = history.bed_days(start, yesterday) / WINDOW_DAYS
    base = baseload_of(hours)
    if base is not None:
        per_bed = f"; {base.kw / beds * 1000:.0f} W per occupied bed" if beds else ""
        result.append(
            Insight(
                key="baseload",
                title="Baseload",
                summary=f"The night-time floor is {base.kw:.2f} kW, {base.share:.0%} of all use{per_bed}.",
                value=base.kw,
                unit="kW",
                normalized="per occupied bed" if beds else "",
                evidence={
                    "kw": round(base.kw, 3),
                    "share": round(base.share, 4),
                    "nights": base.nights,
                    "occupied_beds": round(beds, 1),
                    "window": [start.isoformat(), yesterday.isoformat()],
                },
                **_priced(subject, base.kw * HOURS_PER_YEAR, price),
            )
        )
    ooh = out_of_hours_of(hours, is_open=subject.is_open)
    if ooh is not None:
        days = len({at.date() for at, _ in hours}) or 1
        result.append(
            Insight(
                key="out_of_hours",
                title="Out of hours",
                summary=f"{ooh.share:.0%} of the energy is used {subject.hours_label}.",
                value=ooh.share,
                unit="share",
                evidence={
                    "kwh_out": round(ooh.kwh_out, 1),
                    "kwh_total": round(ooh.kwh_total, 1),
                    "hours": subject.hours_label,
                    "days": days,
                },
                **_priced(subject, ooh.kwh_out * 365 / days, price),
            )
        )
    vacation = vacation_comparison_of(history.daily, subject_periods(subject), today=today)
    if vacation is not None:
        parts = [f"{vacation.vacation.name}: {vacation.kwh_per_day:.0f} kWh a day"]
        if vacation.against_term is not None and vacation.term:
            parts.append(f"{vacation.against_term:.0%} of {vacation.term.name} ({vacation.term_kwh_per_day:.0f})")
        if vacation.against_last_year is not None:
            parts.append(f"{_pct(vacation.against_last_year)} against last year")
        else:
            parts.append("no record of the same vacation last year")
        length = (vacation.vacation.end - vacation.vacation.start).days + 1
        result.append(
            Insight(
                key="vacation",
                title="Vacation and holiday use",
                summary="; ".join(parts) + ".",
                value=vacation.against_term,
                unit="of term",
                normalized="per day (occupants are away: what remains is the building's)",
                evidence={
                    "vacation": vacation.vacation.name,
                    "days_measured": vacation.days,
                    "kwh_per_day": round(vacation.kwh_per_day, 2),
                    "term": vacation.term.name if vacation.term else None,
                    "term_kwh_per_day": _round(vacation.term_kwh_per_day),
                    "last_year": vacation.last_year.name if vacation.last_year else None,
                    "last_year_kwh_per_day": _round(vacation.last_year_kwh_per_day),
                },
                **_priced(subject, vacation.kwh_per_day * length, price),
            )
        )
    # The last whole week (Monday to Sunday) against the one before and the same week 52 weeks before.
    monday = today - dt.timedelta(days=today.weekday() + 7)
    current = history.week(monday)
    for key, title, back in (("week_on_week", "Week on week", 7), ("year_on_year", "Year on year", 364)):
        previous = history.week(monday - dt.timedelta(days=back))
        change = Change(current=current, previous=previous)
        if current.kwh <= 0 or change.raw is None:
            continue
        normalized = change.normalized
        shown = normalized if normalized is not None else change.raw
        weathered = current.kwh_weather is not None and previous.kwh_weather is not None and subject.kind != "room"
        how = "weather and occupied beds" if weathered else "occupied beds"
        result.append(
            Insight(
                key=key,
                title=title,
                summary=(
                    f"Week of {current.start:%d %b}: {current.kwh:.0f} kWh, "
                    f"{_pct(change.raw)} against {previous.start:%d %b %Y}"
                    + (
                        f"; {_pct(normalized)} per occupied bed" + (" in average weather." if weathered else ".")
                        if normalized is not None
                        else "."
                    )
                ),
                value=shown,
                unit="change",
                normalized=how if normalized is not None else "",
                evidence={
                    "current": _week(current),
                    "previous": _week(previous),
                    "raw_change": round(change.raw, 4),
                    "normalized_change": _round(normalized, 4),
                },
                **_priced(subject, change.kwh_per_year, price),
            )
        )
    return result


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _week(week: Week) -> dict[str, Any]:
    return {
        "start": week.start.isoformat(),
        "end": week.end.isoformat(),
        "kwh": round(week.kwh, 1),
        "kwh_weather_normalized": _round(week.kwh_weather, 1),
        "occupied_bed_days": week.bed_days,
    }
