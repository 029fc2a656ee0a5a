"""Hourly rollups keyed by (meter, hour) (migration meters 0016, docs/decisions/0008): the conversion
keeps every rollup on both databases and is reversible, the key refuses a second rollup of the same
meter and hour, and ingestion's upsert still replaces a stored hour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from meters.ingest import readings_ingest
from meters.models import HourlyRollup, Meter
from meters.tests.factories import MeterFactory

BEFORE = [("meters", "0015_hostel_rollup_power_quality")]
AFTER = [("meters", "0016_hourly_rollup_composite_key")]
HOUR = dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)


def _migrate(targets: list[tuple[str, str]] | None) -> None:
    """To these migrations, or (None) to the latest of every app."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets if targets is not None else executor.loader.graph.leaf_nodes())


def _columns() -> list[str]:
    with connection.cursor() as cursor:
        return [
            column.name
            for column in connection.introspection.get_table_description(cursor, HourlyRollup._meta.db_table)
        ]


def _rows() -> list[tuple[int, str, float, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT meter_id, hour, kwh, readings FROM meters_hourlyrollup ORDER BY meter_id, hour")
        return [(int(m), str(h), float(k), int(r)) for m, h, k, r in cursor.fetchall()]


@pytest.fixture
def at_latest() -> Iterator[None]:
    yield
    _migrate(None)  # whatever the test did, the database ends at the latest schema (later migrations too)


@pytest.mark.django_db(transaction=True)
def test_the_conversion_keeps_every_rollup_both_ways(at_latest: None) -> None:
    meters = [MeterFactory.create(), MeterFactory.create()]
    _migrate(BEFORE)
    assert "id" in _columns()
    with connection.cursor() as cursor:
        for k, meter in enumerate(meters):
            for h in range(3):
                cursor.execute(
                    "INSERT INTO meters_hourlyrollup (meter_id, hour, kwh, readings, estimated)"
                    " VALUES (%s, %s, %s, 4, 0)",
                    [
                        meter.pk,
                        connection.ops.adapt_datetimefield_value(HOUR + dt.timedelta(hours=h)),
                        0.5 + k + h / 10,
                    ],
                )
    stored = _rows()
    assert len(stored) == 6

    _migrate(AFTER)
    assert "id" not in _columns()
    assert _rows() == stored
    with pytest.raises(IntegrityError), transaction.atomic():
        HourlyRollup.objects.create(meter=meters[0], hour=HOUR, kwh=9.0, readings=1)

    _migrate(BEFORE)
    assert "id" in _columns()
    assert _rows() == stored


@pytest.mark.django_db
def test_a_rollup_is_found_by_its_meter_and_hour() -> None:
    meter = MeterFactory.create()
    HourlyRollup.objects.create(meter=meter, hour=HOUR, kwh=1.5, readings=4)
    rollup = HourlyRollup.objects.get(pk=(meter.pk, HOUR))
    assert rollup.kwh == 1.5
    assert rollup.pk == (meter.pk, HOUR)


@pytest.mark.django_db
def test_an_import_replaces_a_stored_hour() -> None:
    meter: Meter = MeterFactory.create(interval_minutes=60)
    first = readings_ingest(rows=[{"meter": meter.serial, "timestamp": HOUR.isoformat(), "kwh": 0.5}], source="t")
    assert first.accepted == 1
    again = readings_ingest(rows=[{"meter": meter.serial, "timestamp": HOUR.isoformat(), "kwh": 0.8}], source="t")
    assert again.updated == 1
    assert HourlyRollup.objects.get(meter=meter, hour=HOUR).kwh == pytest.approx(0.8)
    assert HourlyRollup.objects.filter(meter=meter).count() == 1
