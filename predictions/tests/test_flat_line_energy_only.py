"""A meter that reports energy only, in steps of 0.1 kWh, is stuck when it repeats itself for a day, not for a night.

The Cambridge buildings idle at a steady base load on nights and closed days: their hourly readings repeat for up to
22 hours (b110 read 1.7 kWh from 19:00 on Easter Saturday 2019 to 03:00). With no voltage to show that the whole
reading froze, eight equal readings read as a stuck meter ("high") on every such night.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from meters.models import Reading
from predictions.detection import incidents_find
from predictions.tests.test_day_anomalies import FIRST, SATURDAY, ZONE, closed_hour, day_span, main_meter, working_hour

pytestmark = pytest.mark.django_db

FRIDAY = SATURDAY - dt.timedelta(days=1)


def coarse(profile: Callable[[dt.date, int], float]) -> Callable[[dt.date, int], float]:
    """Readings as most exports write them: to 0.1 kWh, varying by a step or two from hour to hour."""
    return lambda day, hour: round(profile(day, hour) + 0.1 * ((hour * 7 + day.day) % 3), 1)


def write_hours(meter: Any, profile: Callable[[dt.date, int], float], days: int = 63) -> None:
    """Hourly readings exactly as `profile` gives them (no voltage, as an export of energy has none)."""
    Reading.objects.bulk_create(
        Reading(meter=meter, timestamp=at.astimezone(dt.UTC), kwh=profile(at.date(), at.hour))
        for n in range(days)
        for hour in range(24)
        if (at := dt.datetime.combine(FIRST + dt.timedelta(days=n), dt.time(hour), tzinfo=ZONE))
    )


def usual(day: dt.date, hour: int) -> float:
    return working_hour(hour) if day.weekday() < 5 else closed_hour(hour)


def flat_lines(meter: Any, day: dt.date) -> list[Any]:
    start, end = day_span(day)
    found, _ = incidents_find(meter_ids=[meter.id], start=start, end=end + dt.timedelta(days=1))
    return [f for f in found if f.kind == "flat_line"]


def test_an_idle_night_at_one_coarse_reading_is_not_a_stuck_meter() -> None:
    meter = main_meter(minutes=60)
    at_night = coarse(usual)

    def profile(day: dt.date, hour: int) -> float:
        # Friday 19:00 to Saturday 14:00: 20 hours at exactly 1.7 kWh, the building idle.
        if (day == FRIDAY and hour >= 19) or (day == SATURDAY and hour < 14):
            return 1.7
        return at_night(day, hour)

    write_hours(meter, profile)
    assert Reading.objects.filter(meter=meter, kwh=1.7).count() == 19
    assert Reading.objects.filter(meter=meter, voltage__isnull=False).count() == 0  # energy only

    assert flat_lines(meter, FRIDAY) == []


def test_a_whole_day_at_one_reading_is_a_stuck_meter() -> None:
    meter = main_meter(minutes=60)
    base = coarse(usual)

    def profile(day: dt.date, hour: int) -> float:
        # From Friday 06:00 for 30 hours the meter sends its last reading again, through Friday's working day.
        if (day == FRIDAY and hour >= 6) or (day == SATURDAY and hour < 12):
            return 10.4
        return base(day, hour)

    write_hours(meter, profile)

    stuck = flat_lines(meter, FRIDAY)
    assert len(stuck) == 1
    assert stuck[0].start.astimezone(ZONE) == dt.datetime.combine(FRIDAY, dt.time(6), tzinfo=ZONE)
    assert stuck[0].end.astimezone(ZONE) >= dt.datetime.combine(SATURDAY, dt.time(11), tzinfo=ZONE)
