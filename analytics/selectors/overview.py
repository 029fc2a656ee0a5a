"""Site overview for managers and wardens: energy, cost and grid health, read from rollups only."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from analytics.selectors.weather import weather_fits, weather_normalized_kwh
from meters.models import DailyRollup, Hostel, HostelHourlyRollup, HourlyRollup, Meter, Occupancy
from meters.scoping import scope_for
from meters.selectors.carbon import carbon_kg_for, energy_by_hostel
from meters.selectors.costs import cost_by_hostel
from meters.selectors.rollups import rollup_hour_latest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DateRange:
    """Whole local days from `start` to `end` inclusive."""

    start: dt.date
    end: dt.date

    @classmethod
    def last_days(cls, days: int, *, today: dt.date | None = None) -> DateRange:
        today = today or timezone.localdate()
        return cls(start=today - dt.timedelta(days=days - 1), end=today)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class GridHealth:
    hour: dt.datetime | None
    kwh_last_hour: float | None
    voltage_avg: float | None
    voltage_min: float | None
    voltage_max: float | None
    power_factor_avg: float | None
    meters_reporting: int


def _energy_meters(user: Any) -> Any:
    """Meters whose sum is the estate's consumption without double counting: hostel mains, else rooms."""
    visible = Meter.objects.visible_to(user)
    # Not a main meter outside any hostel: its NULL in the list would make NOT IN exclude every room.
    with_main = visible.filter(kind=Meter.Kind.HOSTEL_MAIN, hostel__isnull=False).values("hostel_id")
    return visible.filter(Q(kind=Meter.Kind.HOSTEL_MAIN) | Q(kind=Meter.Kind.ROOM) & ~Q(hostel_id__in=with_main))


def _energy_rollups(user: Any) -> Any:
    """The hostel hourly rollups of `_energy_meters`: each visible hostel's mains where it has a main meter,
    else its rooms (a few dozen rows an hour, where the meters' own rollups are thousands)."""
    with_main = Meter.objects.visible_to(user).filter(kind=Meter.Kind.HOSTEL_MAIN, hostel__isnull=False)
    return HostelHourlyRollup.objects.visible_to(user).filter(
        Q(kind=Meter.Kind.HOSTEL_MAIN) | Q(kind=Meter.Kind.ROOM) & ~Q(hostel_id__in=with_main.values("hostel_id"))
    )


def carbon_kg_for_user(*, user: Any, period: DateRange) -> float | None:
    """kg CO2 of the consumption the user sees over the period (the meters of `daily_consumption_for_user`)."""
    return carbon_kg_for(rollups=_energy_rollups(user), start=period.start, end=period.end)


def _latest_hour(*, user: Any, start: dt.datetime, end: dt.datetime) -> dt.datetime | None:
    """The latest hour in [start, end) with an hourly rollup of any meter the user sees.

    A hostel hourly rollup exists for every hour any meter of the hostel has one, and they are indexed by
    the hour: one short backward scan, where asking each of 5,000 meters' (meter, hour) index took 45 to
    115 ms (issue 29). Meters outside any hostel (feeders, other customers) are still asked one by one."""
    hours = [
        HostelHourlyRollup.objects.visible_to(user)
        .filter(hour__gte=start, hour__lt=end)
        .aggregate(latest=Max("hour"))["latest"],
        rollup_hour_latest(meters=Meter.objects.visible_to(user).filter(hostel__isnull=True), start=start, end=end),
    ]
    found = [hour for hour in hours if hour is not None]
    return max(found) if found else None


def grid_health_for_user(*, user: Any, now: dt.datetime | None = None) -> GridHealth:
    """Consumption, voltage and power factor in the latest hour that has data (within a day)."""
    now = now or timezone.now()
    latest = _latest_hour(user=user, start=now - dt.timedelta(days=1), end=now)
    if latest is None:
        return GridHealth(None, None, None, None, None, None, 0)
    # The hostels' meters from their hostel rollups (a few dozen rows, where the meters' own rows in the hour
    # were an index probe each: thousands at campus scale), the meters outside any hostel from their own.
    parts = [
        HostelHourlyRollup.objects.visible_to(user)
        .filter(hour=latest)
        .aggregate(
            v_sum=Sum("voltage_sum"),
            v_n=Sum("voltage_count"),
            vmin=Min("voltage_min"),
            vmax=Max("voltage_max"),
            pf_sum=Sum("power_factor_sum"),
            pf_n=Sum("power_factor_count"),
            n=Sum("meters"),
        )
    ]
    if scope_for(user).everything:  # a warden sees no meter outside their hostels
        outside = Meter.objects.visible_to(user).filter(hostel__isnull=True)
        parts.append(
            HourlyRollup.objects.filter(meter_id__in=outside.values("id"), hour=latest).aggregate(
                v_sum=Sum("voltage_avg"),
                v_n=Count("voltage_avg"),
                vmin=Min("voltage_min"),
                vmax=Max("voltage_max"),
                pf_sum=Sum("power_factor_avg"),
                pf_n=Count("power_factor_avg"),
                n=Count("meter"),
            )
        )
    energy = _energy_rollups(user).filter(hour=latest).aggregate(total=Sum("kwh"))["total"]
    return GridHealth(
        hour=latest,
        kwh_last_hour=energy,
        voltage_avg=_mean(parts, "v_sum", "v_n"),
        voltage_min=_extreme(min, [part["vmin"] for part in parts]),
        voltage_max=_extreme(max, [part["vmax"] for part in parts]),
        power_factor_avg=_mean(parts, "pf_sum", "pf_n"),
        meters_reporting=sum(part["n"] or 0 for part in parts),
    )


def _mean(parts: list[dict[str, Any]], total: str, count: str) -> float | None:
    """The mean of the values summed in `parts` (None where none had one), as Avg over them all."""
    n = sum(part[count] or 0 for part in parts)
    return sum(part[total] for part in parts if part[count]) / n if n else None


def _extreme(pick: Any, values: list[float | None]) -> float | None:
    found = [value for value in values if value is not None]
    return pick(found) if found else None


def daily_consumption_for_user(*, user: Any, period: DateRange) -> list[dict[str, Any]]:
    """kWh per hostel per local day: rows of {day, hostel, kwh, cost}."""
    rows = (
        DailyRollup.objects.filter(
            meter_id__in=_energy_meters(user).values("id"), day__gte=period.start, day__lte=period.end
        )
        .values("day", "meter__hostel__name")
        .annotate(total=Sum("kwh"))
        .order_by("day", "meter__hostel__name")
    )
    return [{"day": row["day"], "hostel": row["meter__hostel__name"] or "Other", "kwh": row["total"]} for row in rows]


def hourly_load_for_user(*, user: Any, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Estate load per UTC hour: rows of {hour, kwh}."""
    rows = (
        _energy_rollups(user)
        .filter(hour__gte=start, hour__lt=end)
        .values("hour")
        .annotate(total=Sum("kwh"))
        .order_by("hour")
    )
    return [{"hour": row["hour"], "kwh": row["total"]} for row in rows]


@dataclass(frozen=True)
class HostelComparison:
    id: int
    name: str
    kwh: float
    cost: float
    currency: str
    occupied_beds: int
    beds: int
    kwh_per_occupied_bed_day: float | None
    kwh_weather_normalized: float | None = None  # in the site's average weather of the last year
    kwh_per_occupied_bed_day_weather: float | None = None
    carbon_kg: float | None = None  # of the room consumption (kwh), at the site's grid intensity


def hostel_comparison_for_user(
    *, user: Any, period: DateRange, now: dt.datetime | None = None, weather: bool = True
) -> list[HostelComparison]:
    """Each visible hostel's room consumption and cost over the period, per occupied bed and day, also
    corrected to the site's average weather of the last year (None where a year's fit is not possible)."""
    now = now or timezone.now()
    hostels = list(
        Hostel.objects.visible_to(user).select_related("site").annotate(beds=Sum("rooms__capacity")).order_by("name")
    )
    ids = [hostel.id for hostel in hostels]
    # kWh and carbon of the rooms in one pass over the hostel hourly rollups (25 rows an hour for 5,000 rooms),
    # priced at the rooms' tariffs without reading every meter's rollups (meters.selectors.costs).
    energy = energy_by_hostel(
        rollups=HostelHourlyRollup.objects.filter(hostel_id__in=ids, kind=Meter.Kind.ROOM),
        start=period.start,
        end=period.end,
        zones={hostel.site_id: hostel.site.timezone for hostel in hostels},
    )
    kwh_of = {hostel_id: found.kwh for hostel_id, found in energy.items() if hostel_id is not None}
    costs = cost_by_hostel(hostel_ids=ids, kind=Meter.Kind.ROOM, kwh=kwh_of, start=period.start, end=period.end)
    occupied = dict(
        Occupancy.objects.filter(room__hostel_id__in=ids, start__lte=now)
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .values("room__hostel_id")
        .annotate(n=Sum("occupants"))
        .values_list("room__hostel_id", "n")
    )
    fits, period_weather = (
        weather_fits(hostels=hostels, today=timezone.localdate(now), period=(period.start, period.end))
        if weather
        else ({}, {})
    )
    result = []
    for hostel in hostels:
        kwh = kwh_of.get(hostel.id, 0.0)
        beds_occupied = int(occupied.get(hostel.id) or 0)
        normalized = weather_normalized_kwh(
            kwh=kwh, fit=fits.get(hostel.id), period_degree_days=period_weather.get(hostel.site_id, [])
        )
        result.append(
            HostelComparison(
                id=hostel.id,
                name=hostel.name,
                kwh=kwh,
                cost=costs.get(hostel.id, 0.0),
                currency=hostel.site.currency,
                occupied_beds=beds_occupied,
                beds=int(hostel.beds or 0),
                kwh_per_occupied_bed_day=kwh / beds_occupied / period.days if beds_occupied else None,
                kwh_weather_normalized=normalized,
                kwh_per_occupied_bed_day_weather=(
                    normalized / beds_occupied / period.days if beds_occupied and normalized is not None else None
                ),
                carbon_kg=energy[hostel.id].carbon_kg if hostel.id in energy else None,
            )
        )
    return result


def overview_for_user(*, user: Any, period: DateRange, now: dt.datetime | None = None) -> dict[str, Any]:
    """Consumption and cost over the period, per hostel and day, with the grid's latest hour.

    Dashboards poll this; at "now" it is kept for ANALYTICS_CACHE_SECONDS, per scope and period: what
    a user may see is their scope (everything, or these hostels), so users of one scope share an
    entry and no entry ever holds rows another scope may not see. A cache that is down is skipped.
    """
    seconds = settings.ANALYTICS_CACHE_SECONDS
    if now is not None or seconds <= 0:
        return _overview(user=user, period=period, now=now)
    key = f"analytics:overview:{scope_key(user)}:{period.start.isoformat()}:{period.end.isoformat()}"
    try:
        cached = cache.get(key)
    except Exception as error:  # connection refused, timeout: compute it as if nothing were cached
        log.warning("overview cache unavailable (%s): computing it", type(error).__name__)
        return _overview(user=user, period=period, now=now)
    if cached is not None:
        return cached
    value = _overview(user=user, period=period, now=now)
    try:
        cache.set(key, value, seconds)
    except Exception as error:  # as above: the answer is good, only not kept
        log.warning("overview cache unavailable (%s): not kept", type(error).__name__)
    return value


def scope_key(user: Any) -> str:
    """A short, stable name for what the user may see: 'all', 'none' or a digest of the hostel ids."""
    scope = scope_for(user)
    if scope.everything:
        return "all"
    if not scope.hostel_ids:
        return "none"
    ids = ",".join(str(pk) for pk in sorted(scope.hostel_ids))
    return "h" + hashlib.sha256(ids.encode()).hexdigest()[:24]


def _overview(*, user: Any, period: DateRange, now: dt.datetime | None) -> dict[str, Any]:
    daily = daily_consumption_for_user(user=user, period=period)
    hostels = hostel_comparison_for_user(user=user, period=period, now=now, weather=False)  # costs only
    currencies = {hostel.currency for hostel in hostels}
    grid = grid_health_for_user(user=user, now=now)
    return {
        "period": {"start": period.start, "end": period.end},
        "kwh": float(sum(row["kwh"] or 0.0 for row in daily)),
        "cost": float(sum(hostel.cost for hostel in hostels)),
        "currency": currencies.pop() if len(currencies) == 1 else None,
        "carbon_kg": carbon_kg_for_user(user=user, period=period),
        "grid": asdict(grid),
        "daily": daily,
    }


def hour_so_far(hour: dt.datetime | None, now: dt.datetime) -> int | None:
    """Minutes of `hour` gone by when it has not ended yet (a partial figure), None for a complete hour."""
    if hour is None or hour + dt.timedelta(hours=1) <= now:
        return None
    return max(0, int((now - hour).total_seconds() // 60))


@dataclass(frozen=True)
class Reconciliation:
    """The site total against the sum of the hostels' rooms: the difference is what mains measure beyond
    the rooms (corridors, kitchens, laundries, lighting, losses) and meters outside any hostel."""

    site_kwh: float
    rooms_kwh: float

    @property
    def common_kwh(self) -> float:
        return self.site_kwh - self.rooms_kwh


def reconcile(*, daily: list[dict[str, Any]], comparison: list[HostelComparison]) -> Reconciliation:
    return Reconciliation(
        site_kwh=float(sum(row["kwh"] or 0.0 for row in daily)),
        rooms_kwh=float(sum(row.kwh for row in comparison)),
    )


@dataclass(frozen=True)
class TodayAgainstUsual:
    """Energy since local midnight (complete hours) against the mean of the same hours of the same weekday."""

    since: dt.datetime
    until: dt.datetime
    kwh: float | None
    usual_kwh: float | None
    weeks: int

    @property
    def change_pct(self) -> float | None:
        if self.kwh is None or not self.usual_kwh:
            return None
        return 100.0 * (self.kwh - self.usual_kwh) / self.usual_kwh


USUAL_WEEKS = 4


def today_against_usual_for_user(*, user: Any, now: dt.datetime | None = None) -> TodayAgainstUsual:
    """Today's use so far (whole hours since local midnight, in the active time zone) against a usual day: the
    same hours of the same weekday in the previous USUAL_WEEKS weeks, averaged over the weeks that have data."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    local_now = now.astimezone(zone)
    until = local_now.replace(minute=0, second=0, microsecond=0)
    midnight = dt.datetime.combine(local_now.date(), dt.time.min, tzinfo=zone)
    windows = [(midnight.astimezone(dt.UTC), until.astimezone(dt.UTC))]
    for weeks in range(1, USUAL_WEEKS + 1):
        day = local_now.date() - dt.timedelta(weeks=weeks)
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(day, until.time(), tzinfo=zone)
        windows.append((start.astimezone(dt.UTC), end.astimezone(dt.UTC)))
    earliest = min(start for start, _ in windows)
    hours = _energy_rollups(user).filter(hour__gte=earliest, hour__lt=windows[0][1])
    totals: list[float | None] = [None] * len(windows)
    for hour, kwh in hours.values("hour").annotate(total=Sum("kwh")).values_list("hour", "total").order_by():
        for i, (start, end) in enumerate(windows):
            if start <= hour < end:
                totals[i] = (totals[i] or 0.0) + float(kwh)
    past = [value for value in totals[1:] if value is not None]
    return TodayAgainstUsual(
        since=midnight,
        until=until,
        kwh=totals[0] if until > midnight else None,
        usual_kwh=sum(past) / len(past) if past else None,
        weeks=len(past),
    )


@dataclass(frozen=True)
class PastPeriod:
    label: str
    start: dt.date
    end: dt.date
    kwh: float

    @property
    def kwh_per_day(self) -> float:
        return self.kwh / ((self.end - self.start).days + 1)


def rooms_energy_past_for_user(*, user: Any, hostel_id: int, period: DateRange) -> list[PastPeriod]:
    """A hostel against its own past: its rooms' kWh in the period, the period before it and a year before."""
    year = dt.timedelta(days=364)  # whole weeks: the same weekdays a year ago
    length = dt.timedelta(days=period.days)
    spans = [
        ("This period", period.start, period.end),
        ("The period before", period.start - length, period.end - length),
        ("A year before", period.start - year, period.end - year),
    ]
    rollups = DailyRollup.objects.filter(
        meter__in=Meter.objects.visible_to(user).filter(hostel_id=hostel_id, kind=Meter.Kind.ROOM),
        day__gte=min(start for _, start, _ in spans),
        day__lte=period.end,
    )
    by_day = dict(rollups.values("day").annotate(total=Sum("kwh")).values_list("day", "total").order_by())
    result = []
    for name, start, end in spans:
        days = [value for day, value in by_day.items() if start <= day <= end]
        if days:
            result.append(PastPeriod(name, start, end, float(sum(days))))
    return result
