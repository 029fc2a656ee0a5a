"""Hostels compared in average weather: a degree-day fit per hostel, applied to the chosen period."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from analytics.selectors.overview import DateRange, hostel_comparison_for_user
from analytics.selectors.weather import degree_days
from meters.models import DailyRollup, Occupancy, Weather
from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory, hours_of_days

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 3, 1)
TZ = ZoneInfo("Europe/Madrid")


def _temperature(day: dt.date) -> float:
    """A cold snap in the last week; mild before."""
    return 2.0 if day >= TODAY - dt.timedelta(days=7) else 12.0 + 4.0 * ((day.toordinal() % 10) / 10)


@pytest.fixture
def heated_hostel():
    cache.clear()
    hostel = HostelFactory.create(code="W", name="Hostel W")
    room = RoomFactory.create(hostel=hostel, number="W-1", bed_type=2, capacity=2)
    meter = MeterFactory.create(serial="RM-W-1", room=room, hostel=hostel)
    Occupancy.objects.create(room=room, start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), occupants=2)
    weather, rollups = [], []
    for offset in range(120, 0, -1):
        day = TODAY - dt.timedelta(days=offset)
        temp = _temperature(day)
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=TZ)
        weather += [
            Weather(
                site=hostel.site, timestamp=(midnight + dt.timedelta(hours=h)).astimezone(dt.UTC), temperature_c=temp
            )
            for h in range(24)
        ]
        # 6 kWh a day plus 1.5 kWh per heating degree-day below 17 °C.
        rollups.append(DailyRollup(meter=meter, day=day, kwh=6.0 + 1.5 * max(17.0 - temp, 0.0), readings=96))
    Weather.objects.bulk_create(weather)
    hours_of_days(DailyRollup.objects.bulk_create(rollups))
    return hostel


def test_a_cold_week_is_corrected_to_the_years_average_weather(heated_hostel, manager) -> None:
    period = DateRange(start=TODAY - dt.timedelta(days=7), end=TODAY - dt.timedelta(days=1))
    now = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
    (row,) = [r for r in hostel_comparison_for_user(user=manager, period=period, now=now) if r.name == "Hostel W"]
    assert row.kwh == pytest.approx(7 * (6.0 + 1.5 * 15.0))
    days = degree_days(
        site_id=heated_hostel.site_id,
        timezone="Europe/Madrid",
        start=TODAY - dt.timedelta(days=120),
        end=TODAY - dt.timedelta(days=1),
    )
    mean_hdd = sum(h for h, _ in days.values()) / len(days)
    assert row.kwh_weather_normalized is not None
    assert row.kwh_weather_normalized == pytest.approx(7 * (6.0 + 1.5 * mean_hdd), rel=0.02)
    assert row.kwh_weather_normalized < row.kwh
    assert row.kwh_per_occupied_bed_day_weather == pytest.approx(row.kwh_weather_normalized / 2 / 7)


def test_without_a_years_fit_the_normalized_figure_is_missing_not_made_up(campus, manager) -> None:
    cache.clear()
    period = DateRange(start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 7))
    rows = hostel_comparison_for_user(user=manager, period=period)
    assert rows
    assert all(r.kwh_weather_normalized is None and r.kwh_per_occupied_bed_day_weather is None for r in rows)


def test_warden_sees_the_normalized_comparison_of_their_hostel_only(heated_hostel, campus, warden_a) -> None:
    period = DateRange(start=TODAY - dt.timedelta(days=7), end=TODAY - dt.timedelta(days=1))
    assert [r.name for r in hostel_comparison_for_user(user=warden_a, period=period)] == ["Hostel A"]
