"""Grid health's latest hour: found from the hostel hourly rollups (and the meters outside any hostel), scoped."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.selectors.overview import grid_health_for_user
from meters.ingest.hostel_rollups import hostel_rollups_rebuild
from meters.models import HourlyRollup, Meter
from meters.tests.factories import MeterFactory

NOW = dt.datetime(2025, 3, 1, 12, 20, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _hour(meter: Meter, hour: dt.datetime, voltage: float) -> None:
    HourlyRollup.objects.create(
        meter=meter,
        hour=hour,
        kwh=1.0,
        readings=4,
        voltage_avg=voltage,
        voltage_min=voltage - 2,
        voltage_max=voltage + 2,
        power_factor_avg=0.95,
    )


@pytest.fixture
def hours(campus: Any) -> Meter:
    """Hostel A's room reported until 10:00, Hostel B's until 11:00, a feeder outside any hostel until 12:00."""
    feeder = MeterFactory.create(serial="FD-1", kind=Meter.Kind.FEEDER, room=None, hostel=None)
    for k in range(3):
        _hour(campus.meter_a, NOW.replace(minute=0) - (k + 2) * HOUR, 230.0)
        _hour(campus.meter_b, NOW.replace(minute=0) - (k + 1) * HOUR, 232.0)
        _hour(feeder, NOW.replace(minute=0) - k * HOUR, 240.0)
    hostel_rollups_rebuild()  # rollups written directly, not by ingestion
    return feeder


@pytest.mark.django_db
def test_each_role_sees_the_latest_hour_of_the_meters_it_may_see(
    hours: Meter, manager: Any, warden_a: Any, warden_b: Any
) -> None:
    top = NOW.replace(minute=0)
    managed = grid_health_for_user(user=manager, now=NOW)
    assert (managed.hour, managed.voltage_avg, managed.meters_reporting) == (top, 240.0, 1)  # the feeder's hour
    a = grid_health_for_user(user=warden_a, now=NOW)
    assert (a.hour, a.voltage_avg, a.kwh_last_hour) == (top - 2 * HOUR, 230.0, 1.0)
    b = grid_health_for_user(user=warden_b, now=NOW)
    assert (b.hour, b.voltage_avg, b.meters_reporting) == (top - HOUR, 232.0, 1)
    assert grid_health_for_user(user=manager, now=NOW - 3 * HOUR).hour == top - 3 * HOUR  # [now - 1 day, now)


@pytest.mark.django_db
def test_the_latest_hour_asks_only_meters_outside_any_hostel_one_by_one(hours: Meter, manager: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        grid_health_for_user(user=manager, now=NOW)
    per_meter = [
        query["sql"]
        for query in queries.captured_queries
        if "LIMIT 1" in query["sql"] and HourlyRollup._meta.db_table in query["sql"]
    ]
    assert per_meter, "the meters outside any hostel are asked"
    assert all('"hostel_id" IS NULL' in sql for sql in per_meter), per_meter


def _per_meter(user: Any, hour: dt.datetime) -> tuple[Any, ...]:
    """Grid health's power quality as every visible meter's own hourly rollup in the hour says it."""
    from django.db.models import Avg, Count, Max, Min

    found = HourlyRollup.objects.filter(meter__in=Meter.objects.visible_to(user), hour=hour).aggregate(
        v=Avg("voltage_avg"),
        vmin=Min("voltage_min"),
        vmax=Max("voltage_max"),
        pf=Avg("power_factor_avg"),
        n=Count("meter"),
    )
    return found["v"], found["vmin"], found["vmax"], found["pf"], found["n"]


@pytest.mark.django_db
def test_power_quality_from_hostel_rollups_equals_every_meters_own_rows(
    campus: Any, manager: Any, warden_a: Any, warden_b: Any
) -> None:
    """Voltage and power factor come from the hostels' rollups (and the meters outside any hostel), and equal
    the per-meter figures exactly for every scope: meters without a voltage are left out of the mean, as Avg
    leaves them out (values in steps of 1/8, exact in binary whatever order they are summed in)."""
    from meters.tests.factories import RoomFactory

    top = NOW.replace(minute=0)
    main_a = MeterFactory.create(serial="MAIN-A", kind=Meter.Kind.HOSTEL_MAIN, room=None, hostel=campus.hostel_a)
    silent = MeterFactory.create(serial="RM-A-102", room=RoomFactory.create(hostel=campus.hostel_a, number="A-102"))
    feeder = MeterFactory.create(serial="FD-1", kind=Meter.Kind.FEEDER, room=None, hostel=None)
    for meter, volts, factor in (
        (campus.meter_a, 229.125, 0.875),
        (main_a, 231.5, 0.9375),
        (campus.meter_b, 226.25, 0.75),
        (feeder, 241.0, 0.625),
    ):
        HourlyRollup.objects.create(
            meter=meter,
            hour=top,
            kwh=1.0,
            readings=4,
            voltage_avg=volts,
            voltage_min=volts - 3.5,
            voltage_max=volts + 4.25,
            power_factor_avg=factor,
        )
    HourlyRollup.objects.create(meter=silent, hour=top, kwh=0.5, readings=4)  # no voltage, no power factor
    hostel_rollups_rebuild()
    for user, expected in (
        (manager, (231.96875, 222.75, 245.25, 0.796875, 5)),
        (warden_a, (230.3125, 225.625, 235.75, 0.90625, 3)),
        (warden_b, (226.25, 222.75, 230.5, 0.75, 1)),
    ):
        with CaptureQueriesContext(connection) as queries:
            health = grid_health_for_user(user=user, now=NOW)
        found = (health.voltage_avg, health.voltage_min, health.voltage_max, health.power_factor_avg)
        assert (health.hour, *found, health.meters_reporting) == (top, *expected)
        assert (*found, health.meters_reporting) == _per_meter(user, top)
        # Only the meters outside any hostel are read one by one: none of a hostel's meters' rows.
        per_meter = [q["sql"] for q in queries.captured_queries if HourlyRollup._meta.db_table in q["sql"]]
        assert all('"hostel_id" IS NULL' in sql for sql in per_meter), per_meter
    # An hour in which no meter measured a voltage or a power factor: none, as Avg, Min and Max of nothing.
    HourlyRollup.objects.update(voltage_avg=None, voltage_min=None, voltage_max=None, power_factor_avg=None)
    hostel_rollups_rebuild()
    health = grid_health_for_user(user=manager, now=NOW)
    found = (health.voltage_avg, health.voltage_min, health.voltage_max, health.power_factor_avg)
    assert (*found, health.meters_reporting) == (None, None, None, None, 5) == _per_meter(manager, top)
