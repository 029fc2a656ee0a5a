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
