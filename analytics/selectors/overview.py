"""Site overview for managers and wardens: energy, cost and grid health, read from rollups only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, F, FloatField, Max, Min, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from meters.models import DailyRollup, Hostel, HourlyRollup, Meter, Occupancy


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
    with_main = visible.filter(kind=Meter.Kind.HOSTEL_MAIN).values("hostel_id")
    return visible.filter(Q(kind=Meter.Kind.HOSTEL_MAIN) | Q(kind=Meter.Kind.ROOM) & ~Q(hostel_id__in=with_main))


def grid_health_for_user(*, user: Any, now: dt.datetime | None = None) -> GridHealth:
    """Consumption, voltage and power factor in the latest hour that has data (within a day)."""
    now = now or timezone.now()
    visible_meters = Meter.objects.visible_to(user).values("id")
    hourly = HourlyRollup.objects.filter(
        meter_id__in=visible_meters, hour__gte=now - dt.timedelta(days=1), hour__lt=now
    )
    latest = hourly.aggregate(latest=Max("hour"))["latest"]
    if latest is None:
        return GridHealth(None, None, None, None, None, None, 0)
    in_hour = HourlyRollup.objects.filter(meter_id__in=visible_meters, hour=latest)
    quality = in_hour.aggregate(
        v=Avg("voltage_avg"),
        vmin=Min("voltage_min"),
        vmax=Max("voltage_max"),
        pf=Avg("power_factor_avg"),
        n=Count("id"),
    )
    energy = in_hour.filter(meter_id__in=_energy_meters(user).values("id")).aggregate(total=Sum("kwh"))["total"]
    return GridHealth(
        hour=latest,
        kwh_last_hour=energy,
        voltage_avg=quality["v"],
        voltage_min=quality["vmin"],
        voltage_max=quality["vmax"],
        power_factor_avg=quality["pf"],
        meters_reporting=quality["n"],
    )


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
        HourlyRollup.objects.filter(meter_id__in=_energy_meters(user).values("id"), hour__gte=start, hour__lt=end)
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


def hostel_comparison_for_user(
    *, user: Any, period: DateRange, now: dt.datetime | None = None
) -> list[HostelComparison]:
    """Each visible hostel's room consumption and cost over the period, per occupied bed and day."""
    now = now or timezone.now()
    hostels = list(
        Hostel.objects.visible_to(user).select_related("site").annotate(beds=Sum("rooms__capacity")).order_by("name")
    )
    ids = [hostel.id for hostel in hostels]
    price = Cast("meter__customer__tariff__price_per_kwh", FloatField())
    energy = {
        row["meter__hostel_id"]: row
        for row in DailyRollup.objects.filter(
            meter__hostel_id__in=ids, meter__kind=Meter.Kind.ROOM, day__gte=period.start, day__lte=period.end
        )
        .values("meter__hostel_id")
        .annotate(total_kwh=Sum("kwh"), total_cost=Sum(F("kwh") * price))
    }
    occupied = dict(
        Occupancy.objects.filter(room__hostel_id__in=ids, start__lte=now)
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .values("room__hostel_id")
        .annotate(n=Sum("occupants"))
        .values_list("room__hostel_id", "n")
    )
    result = []
    for hostel in hostels:
        row = energy.get(hostel.id, {})
        kwh = float(row.get("total_kwh") or 0.0)
        beds_occupied = int(occupied.get(hostel.id) or 0)
        result.append(
            HostelComparison(
                id=hostel.id,
                name=hostel.name,
                kwh=kwh,
                cost=float(row.get("total_cost") or 0.0),
                currency=hostel.site.currency,
                occupied_beds=beds_occupied,
                beds=int(hostel.beds or 0),
                kwh_per_occupied_bed_day=kwh / beds_occupied / period.days if beds_occupied else None,
            )
        )
    return result
