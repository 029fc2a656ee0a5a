"""Hourly rollups without an index on the hour alone (docs/decisions/0005): bounds across meters are
found per meter, and they are the same as a scan of every rollup would find."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from meters.models import HourlyRollup, Meter
from meters.selectors import rollup_hour_latest, rollup_hour_span
from meters.tests.factories import MeterFactory

T0 = dt.datetime(2025, 1, 6, 0, 0, tzinfo=dt.UTC)


def _rollups(meter: Meter, hours: list[int]) -> None:
    HourlyRollup.objects.bulk_create(
        HourlyRollup(meter=meter, hour=T0 + dt.timedelta(hours=h), kwh=1.0, readings=1) for h in hours
    )


@pytest.mark.django_db
def test_hourly_rollups_have_no_index_on_the_hour_alone() -> None:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, HourlyRollup._meta.db_table)
    columns = [
        tuple(item["columns"]) for item in found.values() if item["index"] or item["unique"] or item["primary_key"]
    ]
    assert ("hour",) not in columns
    # The primary key is (meter, hour) (docs/decisions/0008); SQLite's introspection does not keep its order.
    (key,) = [item["columns"] for item in found.values() if item["primary_key"]]
    assert key == ["meter_id", "hour"] if connection.vendor == "postgresql" else sorted(key) == ["hour", "meter_id"]


@pytest.mark.django_db
def test_latest_and_first_rollup_hours_are_those_of_any_of_the_meters_asked_about() -> None:
    early, late, other = MeterFactory.create(), MeterFactory.create(), MeterFactory.create()
    _rollups(early, [0, 1, 2])
    _rollups(late, [5, 9, 30])
    _rollups(other, [-10, 50])
    asked = Meter.objects.filter(pk__in=[early.pk, late.pk])
    assert rollup_hour_span(meters=asked) == (T0, T0 + dt.timedelta(hours=30))
    assert rollup_hour_latest(meters=asked) == T0 + dt.timedelta(hours=30)
    assert rollup_hour_latest(meters=asked, start=T0 + dt.timedelta(hours=1), end=T0 + dt.timedelta(hours=9)) == (
        T0 + dt.timedelta(hours=5)
    )
    assert rollup_hour_latest(meters=asked, end=T0) is None
    assert rollup_hour_span(meters=Meter.objects.none()) == (None, None)
    assert rollup_hour_span(meters=Meter.objects.all()) == (T0 - dt.timedelta(hours=10), T0 + dt.timedelta(hours=50))
