"""Readings partitioned by month on PostgreSQL: rows land in their month, the unique (meter, timestamp)
rule and ingestion's upsert hold across partitions, partitions are made ahead idempotently, and the
migration's conversion keeps every row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from meters.ingest import readings_ingest
from meters.models import HourlyRollup, Meter, Quality, Reading
from meters.partitions import (
    DEFAULT_PARTITION,
    ID_CACHE,
    partition_of,
    reading_partitions,
    reading_partitions_ensure,
    readings_partitioned,
    readings_table_partition,
    readings_table_unpartition,
)
from meters.tests.factories import MeterFactory

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
JAN = dt.datetime(2025, 1, 31, 23, 0, tzinfo=dt.UTC)  # the last hour of January and the first of February


def rows(serial: str, start: dt.datetime, count: int, kwh: float = 0.5) -> list[dict[str, Any]]:
    return [
        {"meter": serial, "timestamp": (start + dt.timedelta(hours=k)).isoformat(), "kwh": kwh} for k in range(count)
    ]


@pytest.fixture
def meter(db: None) -> Meter:
    return MeterFactory.create(serial="P-1", interval_minutes=60)


def where(meter: Meter, stamp: dt.datetime) -> str | None:
    with connection.cursor() as cur:
        return partition_of(cur, meter_id=meter.id, timestamp=stamp)


@pytest.mark.django_db
def test_the_readings_table_is_partitioned_with_a_default_partition() -> None:
    assert readings_partitioned()
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [DEFAULT_PARTITION])
        assert cur.fetchone()[0]
        cur.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'meters_reading'::regclass "
            "AND contype = 'p'"
        )
        assert cur.fetchone()[0] == 'PRIMARY KEY (id, "timestamp")'


@pytest.mark.django_db
def test_rows_land_in_their_months_partition(meter: Meter) -> None:
    reading_partitions_ensure(now=JAN)
    readings_ingest(rows=rows("P-1", JAN, 2), source="t", now=NOW)
    assert where(meter, JAN) == "meters_reading_p2025_01"
    assert where(meter, JAN + dt.timedelta(hours=1)) == "meters_reading_p2025_02"
    # A month with no partition yet waits in the default one, until the task gives it its own.
    may = dt.datetime(2025, 5, 10, tzinfo=dt.UTC)
    readings_ingest(rows=rows("P-1", may, 3), source="t", now=NOW)
    assert where(meter, may) == DEFAULT_PARTITION
    result = reading_partitions_ensure(now=JAN, months_ahead=0)
    assert result["created"] == ["meters_reading_p2025_05"]
    assert result["moved"] == 3
    assert where(meter, may) == "meters_reading_p2025_05"
    assert Reading.objects.filter(meter=meter).count() == 5


@pytest.mark.django_db
def test_the_upsert_counts_and_corrects_across_partitions(meter: Meter) -> None:
    reading_partitions_ensure(now=JAN)
    first = readings_ingest(rows=rows("P-1", JAN, 4), source="t", now=NOW)
    assert (first.accepted, first.updated) == (4, 0)
    again = readings_ingest(rows=rows("P-1", JAN, 4), source="t", now=NOW)
    assert (again.accepted, again.updated, again.unchanged) == (0, 0, 4)
    changed = rows("P-1", JAN, 6)
    changed[0]["kwh"] = changed[1]["kwh"] = 0.8  # one in January, one in February; two new rows
    result = readings_ingest(rows=changed, source="t", now=NOW)
    assert (result.accepted, result.updated, result.unchanged) == (2, 2, 2)
    corrected = Reading.objects.filter(meter=meter, quality=Quality.CORRECTED)
    assert sorted(corrected.values_list("timestamp", flat=True)) == [JAN, JAN + dt.timedelta(hours=1)]
    assert Reading.objects.filter(meter=meter).count() == 6
    assert HourlyRollup.objects.get(meter=meter, hour=JAN).kwh == pytest.approx(0.8)


@pytest.mark.django_db
def test_the_same_meter_and_time_cannot_be_stored_twice(meter: Meter) -> None:
    from django.db import IntegrityError, transaction

    reading_partitions_ensure(now=JAN)
    Reading.objects.create(meter=meter, timestamp=JAN, kwh=0.5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reading.objects.create(meter=meter, timestamp=JAN, kwh=0.6)


@pytest.mark.django_db
def test_django_reads_updates_and_deletes_by_id(meter: Meter) -> None:
    reading = Reading.objects.create(meter=meter, timestamp=JAN, kwh=0.5)
    later = Reading.objects.create(meter=meter, timestamp=JAN + dt.timedelta(hours=1), kwh=0.5)
    assert later.id > reading.id
    assert Reading.objects.get(pk=reading.pk).kwh == 0.5
    reading.kwh = 0.7
    reading.save()
    assert Reading.objects.get(pk=reading.pk).kwh == 0.7
    reading.delete()
    assert list(Reading.objects.filter(meter=meter).values_list("id", flat=True)) == [later.id]


@pytest.mark.django_db
def test_partitions_ahead_are_made_once() -> None:
    first = reading_partitions_ensure(now=dt.datetime(2030, 11, 15, tzinfo=dt.UTC), months_ahead=3)
    assert first["created"] == [
        "meters_reading_p2030_11",
        "meters_reading_p2030_12",
        "meters_reading_p2031_01",
        "meters_reading_p2031_02",
    ]
    again = reading_partitions_ensure(now=dt.datetime(2030, 11, 30, tzinfo=dt.UTC), months_ahead=3)
    assert again == {"partitioned": True, "created": [], "moved": 0}
    names = [part.name for part in reading_partitions()]
    assert len(names) == len(set(names))


@pytest.mark.django_db
def test_converting_an_unpartitioned_table_keeps_every_row_and_id(meter: Meter) -> None:
    readings_ingest(rows=rows("P-1", JAN - dt.timedelta(days=40), 24 * 60), source="t", now=NOW)
    before = list(Reading.objects.order_by("id").values_list("id", "meter_id", "timestamp", "kwh"))
    with connection.cursor() as cur:
        assert readings_table_unpartition(cur) == len(before)
        assert not readings_partitioned(cur)
        assert readings_table_partition(cur, now=NOW) == len(before)
        assert readings_partitioned(cur)
        months = [part.name for part in reading_partitions(cur)]
    assert months[0] == "meters_reading_p2024_12"
    assert "meters_reading_p2026_03" in months
    assert list(Reading.objects.order_by("id").values_list("id", "meter_id", "timestamp", "kwh")) == before
    fresh = Reading.objects.create(meter=meter, timestamp=NOW - dt.timedelta(hours=1), kwh=0.1)
    assert fresh.id > before[-1][0]
    assert where(meter, NOW - dt.timedelta(hours=1)) == "meters_reading_p2025_11"


def id_cache(table: str) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT s.cache_size FROM pg_sequences s "
            "WHERE format('%%I.%%I', s.schemaname, s.sequencename)::regclass "
            "= pg_get_serial_sequence(%s, 'id')::regclass",
            [table],
        )
        return int(cur.fetchone()[0])


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["meters_reading", "meters_dailyrollup", "meters_hostelhourlyrollup"])
def test_bulk_written_tables_take_their_ids_a_thousand_at_a_time(table: str) -> None:
    """A COPY of a million rows would otherwise lock the sequence once a row (docs/decisions/0006)."""
    assert id_cache(table) == ID_CACHE


@pytest.mark.django_db
def test_converting_the_readings_table_keeps_its_ids_cached(meter: Meter) -> None:
    with connection.cursor() as cur:
        readings_table_unpartition(cur)
        assert id_cache("meters_reading") == ID_CACHE
        readings_table_partition(cur, now=NOW)
    assert id_cache("meters_reading") == ID_CACHE
