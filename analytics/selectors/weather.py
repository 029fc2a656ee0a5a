"""Weather-normalized hostel consumption: what each hostel would have used in its site's average weather.

Each hostel's daily room energy over the last year is fitted (non-negative least squares) as a base
load, a use per occupied bed, and slopes per heating and cooling degree-day; a period's energy is
then corrected by the slopes times how far its degree-days were from the year's average. This is the
usual degree-day normalization of energy reporting (ASHRAE Guideline 14, IPMVP option C), so a hostel
compared in a cold week is not blamed for the weather. Read from daily rollups and weather only.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from django.core.cache import cache
from django.db.models import Sum
from scipy.optimize import nnls

from meters.models import DailyRollup, Hostel, Meter, Occupancy, Weather
from predictions.ml.segmentation import COOLING_ABOVE, HEATING_BELOW  # one comfort band for the product

FIT_DAYS = 365
MIN_DAYS = 60  # fewer days of energy and weather than this: no normalization, shown as such
CACHE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class WeatherFit:
    """A hostel's daily energy model; degree-day slopes and the fitted year's mean degree-days."""

    base_kwh: float
    kwh_per_bed: float
    kwh_per_heating_degree_day: float
    kwh_per_cooling_degree_day: float
    mean_hdd: float
    mean_cdd: float
    days: int


def degree_days(*, site_id: int, timezone: str, start: dt.date, end: dt.date) -> dict[dt.date, tuple[float, float]]:
    """Heating and cooling degree-days of each local day in [start, end], from hourly temperatures."""
    tz = ZoneInfo(timezone)
    first = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    sums: dict[dt.date, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    rows = Weather.objects.filter(site_id=site_id, timestamp__gte=first, timestamp__lt=last).values_list(
        "timestamp", "temperature_c"
    )
    for at, temp in rows.iterator(chunk_size=5000):
        day = sums[at.astimezone(tz).date()]
        day[0] += max(HEATING_BELOW - temp, 0.0)
        day[1] += max(temp - COOLING_ABOVE, 0.0)
        day[2] += 1
    # The mean of the hourly degrees is the day's degree-days (degree-hours / 24), over the hours
    # observed: a missing hour does not look mild.
    return {day: (h / n, c / n) for day, (h, c, n) in sums.items() if n >= 18}


def _occupied_beds(hostel_ids: list[int], start: dt.date, end: dt.date) -> dict[int, np.ndarray]:
    """Occupied beds of each hostel at noon UTC of each day in [start, end]."""
    days = (end - start).days + 1
    noon = [dt.datetime.combine(start + dt.timedelta(days=i), dt.time(12), tzinfo=dt.UTC) for i in range(days)]
    out = {hostel_id: np.zeros(days) for hostel_id in hostel_ids}
    rows = Occupancy.objects.filter(room__hostel_id__in=hostel_ids, start__lte=noon[-1]).values_list(
        "room__hostel_id", "start", "end", "occupants"
    )
    for hostel_id, first, last, occupants in rows.iterator(chunk_size=5000):
        lo = bisect.bisect_left(noon, first)
        hi = days if last is None else bisect.bisect_left(noon, last)
        out[hostel_id][lo:hi] += occupants
    return out


def _fit(kwh: np.ndarray, beds: np.ndarray, hdd: np.ndarray, cdd: np.ndarray) -> WeatherFit | None:
    if len(kwh) < MIN_DAYS:
        return None
    design = np.column_stack([np.ones(len(kwh)), beds, hdd, cdd])
    # Non-negative: more cold or heat never lowers a hostel's use, and a negative slope is noise.
    coef, _ = nnls(design, kwh)
    return WeatherFit(
        base_kwh=float(coef[0]),
        kwh_per_bed=float(coef[1]),
        kwh_per_heating_degree_day=float(coef[2]),
        kwh_per_cooling_degree_day=float(coef[3]),
        mean_hdd=float(hdd.mean()),
        mean_cdd=float(cdd.mean()),
        days=len(kwh),
    )


def weather_fits(
    *, hostels: list[Hostel], today: dt.date, period: tuple[dt.date, dt.date]
) -> tuple[dict[int, WeatherFit | None], dict[int, list[tuple[float, float]]]]:
    """Each hostel's fit over the year before `today` (cached for some hours: it moves slowly), and each
    site's degree-days of the days in `period` (first, last); one weather query per site either way."""
    keys = {hostel.id: f"analytics:weather-fit:{hostel.id}:{today.isoformat()}" for hostel in hostels}
    cached = cache.get_many(list(keys.values()))
    fits: dict[int, WeatherFit | None] = {h.id: cached[keys[h.id]] for h in hostels if keys[h.id] in cached}
    missing = [hostel for hostel in hostels if hostel.id not in fits]
    start, end = today - dt.timedelta(days=FIT_DAYS), today - dt.timedelta(days=1)
    sites = {hostel.site_id: hostel.site.timezone for hostel in hostels}
    fitting = {hostel.site_id for hostel in missing}
    weather = {
        site_id: degree_days(
            site_id=site_id,
            timezone=timezone,
            start=min(start, period[0]) if site_id in fitting else period[0],
            end=max(end, period[1]) if site_id in fitting else period[1],
        )
        for site_id, timezone in sites.items()
    }
    in_period = {
        site_id: [value for day, value in days.items() if period[0] <= day <= period[1]]
        for site_id, days in weather.items()
    }
    if not missing:
        return fits, in_period
    energy: dict[int, dict[dt.date, float]] = defaultdict(dict)
    rows = (
        DailyRollup.objects.filter(
            meter__hostel_id__in=[h.id for h in missing], meter__kind=Meter.Kind.ROOM, day__gte=start, day__lte=end
        )
        .values_list("meter__hostel_id", "day")
        .annotate(kwh=Sum("kwh"))
        .order_by()
    )
    for hostel_id, day, kwh in rows:
        energy[hostel_id][day] = float(kwh or 0.0)
    beds = _occupied_beds([h.id for h in missing], start, end)
    for hostel in missing:
        days = sorted(day for day in energy.get(hostel.id, {}) if day in weather[hostel.site_id] and day <= end)
        index = np.array([(day - start).days for day in days], dtype=int)
        fits[hostel.id] = _fit(
            np.array([energy[hostel.id][day] for day in days]),
            beds[hostel.id][index] if len(index) else np.zeros(0),
            np.array([weather[hostel.site_id][day][0] for day in days]),
            np.array([weather[hostel.site_id][day][1] for day in days]),
        )
    cache.set_many({keys[h.id]: fits[h.id] for h in missing}, CACHE_SECONDS)
    return fits, in_period


def weather_normalized_kwh(
    *, kwh: float, fit: WeatherFit | None, period_degree_days: list[tuple[float, float]]
) -> float | None:
    """The period's energy corrected to the fitted year's average degree-days; None without a fit."""
    if fit is None or not period_degree_days:
        return None
    hdd = sum(h for h, _ in period_degree_days)
    cdd = sum(c for _, c in period_degree_days)
    days = len(period_degree_days)
    correction = fit.kwh_per_heating_degree_day * (hdd - days * fit.mean_hdd)
    correction += fit.kwh_per_cooling_degree_day * (cdd - days * fit.mean_cdd)
    return max(kwh - correction, 0.0)
