"""Synthetic rollups with known answers for the insight, league, digest and health tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from customers.tests.factories import CustomerFactory, TariffFactory
from meters.models import DailyRollup, HourlyRollup, Meter, Occupancy, Room


def day_profile(hour: int) -> float:
    """0.5 kWh an hour from 00:00 to 06:59, 2.0 from 07:00 to 22:59, 1.0 from 23:00: 36.5 kWh a day."""
    if hour < 7:
        return 0.5
    return 2.0 if hour < 23 else 1.0


DAY_KWH = 36.5
NIGHT_KWH = 7 * 0.5 + 1.0  # 23:00 to 07:00


def priced(meter: Meter, price: str = "0.2000") -> Meter:
    """Give the meter a customer on a flat tariff of `price` per kWh."""
    tariff = TariffFactory.create(name=f"Flat {price}", price_per_kwh=Decimal(price))
    meter.customer = CustomerFactory.create(tariff=tariff)
    meter.save()
    return meter


def occupy(room: Room, occupants: int, since: dt.date = dt.date(2020, 1, 1)) -> None:
    Occupancy.objects.create(
        room=room, start=dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC), occupants=occupants
    )


def load(
    meter: Meter,
    *,
    start: dt.date,
    days: int,
    profile: Callable[[int], float] = day_profile,
    scale: Callable[[dt.date], float] = lambda day: 1.0,
    readings_per_hour: int = 4,
) -> None:
    """Hourly and daily rollups of `meter` for `days` local days from `start` in its site's time zone."""
    tz = meter.hostel.site.tz if meter.hostel else dt.UTC
    hourly, daily = [], []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        first = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        total = 0.0
        for h in range(24):
            at = (first + dt.timedelta(hours=h)).astimezone(dt.UTC)
            kwh = profile(h) * scale(day)
            total += kwh
            hourly.append(HourlyRollup(meter=meter, hour=at, kwh=kwh, readings=readings_per_hour))
        daily.append(DailyRollup(meter=meter, day=day, kwh=total, readings=24 * readings_per_hour))
    HourlyRollup.objects.bulk_create(hourly)
    DailyRollup.objects.bulk_create(daily)


# What the insights panel adds to a page computed cold (then kept for an hour), whatever the number of rooms:
# a hostel's meters, tariff, hourly and daily rollups, occupancy, calendar, weather fit (3) and degree-days,
# its residents' page; a room's the same without weather, plus its meter's health (5).
HOSTEL_INSIGHTS_QUERIES = 11
ROOM_INSIGHTS_QUERIES = 8
