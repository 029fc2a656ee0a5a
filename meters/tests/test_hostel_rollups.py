"""Hostel hourly rollups: kept equal to the sum of their meters' hourly rollups by every path that writes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Count, Max, Min, Sum

from meters.ingest import readings_ingest
from meters.ingest.hostel_rollups import hostel_rollups_rebuild
from meters.models import Hostel, HostelHourlyRollup, HourlyRollup, Meter
from meters.services import rollups_rebuild
from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory

T0 = dt.datetime(2025, 2, 3, 0, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)


def _rows(
    serial: str, count: int, *, start: dt.datetime = T0, kwh: float = 0.25, volts: float | None = None
) -> list[dict[str, Any]]:
    """Quarter-hour readings; with `volts`, a voltage of volts + k % 4 (0.5 V steps, exact in binary) and a
    power factor of 0.75 or 1.0, alternately."""
    rows: list[dict[str, Any]] = [
        {"meter": serial, "timestamp": (start + dt.timedelta(minutes=15 * k)).isoformat(), "kwh": kwh}
        for k in range(count)
    ]
    if volts is not None:
        for k, row in enumerate(rows):
            row.update(voltage=volts + (k % 4) * 0.5, power_factor=0.75 if k % 2 else 1.0)
    return rows


def _ingest(rows: list[dict[str, Any]]) -> None:
    readings_ingest(rows=rows, source="test", now=NOW)


QUALITY = ("voltage_sum", "voltage_count", "voltage_min", "voltage_max", "power_factor_sum", "power_factor_count")


def _from_meters(*, quality: bool = False) -> dict[tuple[int, str, dt.datetime], tuple[Any, ...]]:
    """The hostel rollups as they should be: the meters' hourly rollups summed by hostel, kind and hour
    (with `quality`, also their voltage and power factor sums, counts and extremes)."""
    rows = (
        HourlyRollup.objects.filter(meter__hostel__isnull=False)
        .values_list("meter__hostel_id", "meter__kind", "hour")
        .annotate(
            kwh=Sum("kwh"),
            n=Count("meter"),
            readings=Sum("readings"),
            v_sum=Sum("voltage_avg"),
            v_n=Count("voltage_avg"),
            v_min=Min("voltage_min"),
            v_max=Max("voltage_max"),
            pf_sum=Sum("power_factor_avg"),
            pf_n=Count("power_factor_avg"),
        )
        .order_by()
    )
    return {
        (h, k, hour): (pytest.approx(kwh), n, readings, *(rest if quality else ()))
        for h, k, hour, kwh, n, readings, *rest in rows
    }


def _stored(*, quality: bool = False) -> dict[tuple[int, str, dt.datetime], tuple[Any, ...]]:
    return {
        (h, k, hour): (kwh, n, readings, *(rest if quality else ()))
        for h, k, hour, kwh, n, readings, *rest in HostelHourlyRollup.objects.values_list(
            "hostel_id", "kind", "hour", "kwh", "meters", "readings", *QUALITY
        )
    }


@pytest.fixture
def hall(db: None) -> tuple[Hostel, list[Meter], Meter]:
    hostel = HostelFactory.create(code="H", name="Hall")
    rooms = [
        MeterFactory.create(serial=f"R-{i}", room=RoomFactory.create(hostel=hostel, number=f"{i}")) for i in range(3)
    ]
    main = MeterFactory.create(serial="MAIN", kind=Meter.Kind.HOSTEL_MAIN, room=None, hostel=hostel)
    return hostel, rooms, main


def test_ingestion_keeps_each_hostel_hour_the_sum_of_its_meters_hours(hall: tuple[Hostel, list[Meter], Meter]) -> None:
    hostel = hall[0]
    _ingest(_rows("R-0", 8, volts=230.0) + _rows("R-1", 8, kwh=0.5, volts=240.0) + _rows("MAIN", 8, kwh=2.0))
    _ingest(_rows("R-2", 4, start=T0 + dt.timedelta(hours=1), kwh=1.0))  # a later batch, another meter, same hour
    stored = _stored(quality=True)
    assert stored == _from_meters(quality=True)
    # Rooms of the second hour: R-0 1.0 + R-1 2.0 + R-2 4.0 kWh, three meters, 12 readings; voltage averages
    # 230.75 and 240.75 V (R-2 has none), 230 V the lowest reading, 241.5 V the highest; power factors 0.875.
    assert stored[(hostel.pk, Meter.Kind.ROOM, T0 + dt.timedelta(hours=1))] == (
        pytest.approx(7.0),
        3,
        12,
        471.5,
        2,
        230.0,
        241.5,
        1.75,
        2,
    )
    assert stored[(hostel.pk, Meter.Kind.HOSTEL_MAIN, T0)] == (pytest.approx(8.0), 1, 4, None, 0, None, None, None, 0)


def test_a_corrected_reading_changes_its_hostel_hour_and_a_repeat_changes_nothing(
    hall: tuple[Hostel, list[Meter], Meter],
) -> None:
    hostel = hall[0]
    _ingest(_rows("R-0", 4) + _rows("R-1", 4))
    _ingest([{"meter": "R-0", "timestamp": T0.isoformat(), "kwh": 1.25}])  # 0.25 corrected to 1.25
    assert HostelHourlyRollup.objects.get(hostel=hostel, kind=Meter.Kind.ROOM, hour=T0).kwh == pytest.approx(3.0)
    before = _stored()
    _ingest(_rows("R-1", 4))
    assert _stored() == before == _from_meters()


def test_rollups_rebuild_after_readings_were_deleted_drops_the_hours_they_left(
    hall: tuple[Hostel, list[Meter], Meter],
) -> None:
    hostel, rooms, _ = hall
    _ingest(_rows("R-0", 8) + _rows("R-1", 4))
    rooms[0].readings.filter(timestamp__gte=T0 + dt.timedelta(hours=1)).delete()
    HourlyRollup.objects.filter(meter=rooms[0], hour__gte=T0 + dt.timedelta(hours=1)).delete()
    rollups_rebuild(meter_ids=[rooms[0].pk], start=T0, end=T0 + dt.timedelta(hours=2))
    assert _stored() == _from_meters()
    assert not HostelHourlyRollup.objects.filter(hostel=hostel, hour=T0 + dt.timedelta(hours=1)).exists()


def test_a_meter_moved_to_another_hostel_or_deleted_moves_its_energy_with_it(
    hall: tuple[Hostel, list[Meter], Meter],
) -> None:
    hostel, _, main = hall
    other = HostelFactory.create(code="O", name="Other")
    _ingest(_rows("R-0", 4, volts=230.0) + _rows("MAIN", 4, kwh=2.0, volts=236.0))
    main.hostel = other
    main.save()
    assert _stored(quality=True) == _from_meters(quality=True)
    assert HostelHourlyRollup.objects.values_list("voltage_sum", flat=True).get(hostel=other) == 236.75
    assert HostelHourlyRollup.objects.filter(hostel=other, kind=Meter.Kind.HOSTEL_MAIN).get().kwh == pytest.approx(8.0)
    assert not HostelHourlyRollup.objects.filter(hostel=hostel, kind=Meter.Kind.HOSTEL_MAIN).exists()
    main.delete()
    assert _stored() == _from_meters()
    assert not HostelHourlyRollup.objects.filter(hostel=other).exists()


def test_a_save_of_other_fields_asks_nothing_and_a_save_of_the_hostel_still_moves_its_energy(
    hall: tuple[Hostel, list[Meter], Meter], django_assert_num_queries: Any
) -> None:
    hostel, _, main = hall
    other = HostelFactory.create(code="O2", name="Other")
    _ingest(_rows("MAIN", 4, kwh=2.0))
    main.refresh_from_db()
    with django_assert_num_queries(1):  # the UPDATE alone: no look-up of the hostel it had
        main.save(update_fields=["last_reading_at"])
    main.hostel = other
    main.save(update_fields=["hostel"])
    assert _stored() == _from_meters()
    assert HostelHourlyRollup.objects.filter(hostel=other, kind=Meter.Kind.HOSTEL_MAIN).get().kwh == pytest.approx(8.0)
    assert not HostelHourlyRollup.objects.filter(hostel=hostel, kind=Meter.Kind.HOSTEL_MAIN).exists()


def test_rebuild_sums_rollups_written_directly_and_is_idempotent(hall: tuple[Hostel, list[Meter], Meter]) -> None:
    hostel, rooms, _ = hall
    HourlyRollup.objects.bulk_create(
        HourlyRollup(
            meter=meter,
            hour=T0 + dt.timedelta(hours=h),
            kwh=1.0 + h,
            readings=4,
            **(
                {"voltage_avg": 230.0 + i, "voltage_min": 228.0 - i, "voltage_max": 232.5 + i, "power_factor_avg": 0.5}
                if i
                else {}  # the first room measures no voltage
            ),
        )
        for i, meter in enumerate(rooms)
        for h in range(3)
    )
    HostelHourlyRollup.objects.create(
        hostel=hostel, kind=Meter.Kind.HOSTEL_MAIN, hour=T0, kwh=9.0, meters=1, readings=1
    )
    hostel_rollups_rebuild()
    hostel_rollups_rebuild()
    assert _stored(quality=True) == _from_meters(quality=True)
    assert _stored(quality=True)[(hostel.pk, Meter.Kind.ROOM, T0)][3:] == (463.0, 2, 226.0, 234.5, 1.0, 2)
    assert HostelHourlyRollup.objects.count() == 3  # the stale main row is gone


def test_the_hostel_list_sums_hostel_rollups_not_every_meters_rows(
    hall: tuple[Hostel, list[Meter], Meter], manager: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from meters.selectors import hostels_for_user

    hostel = hall[0]
    hostel.site.carbon_kg_per_kwh = 0.5
    hostel.site.save()
    _ingest(_rows("R-0", 8) + _rows("R-1", 8, kwh=0.5) + _rows("MAIN", 8, kwh=2.0))
    with CaptureQueriesContext(connection) as queries:
        summaries = hostels_for_user(user=manager, now=T0 + dt.timedelta(hours=3))
    (summary,) = [row for row in summaries if row.id == hostel.pk]
    assert summary.kwh_last_24h == pytest.approx(6.0)  # the rooms' 2 + 4 kWh: the main meter measures them again
    assert summary.carbon_kg_last_24h == pytest.approx(3.0)
    # 5,000 room meters' hourly rows for a day were summed on every view of the home page (issue 29).
    assert not [q["sql"] for q in queries.captured_queries if "meters_hourlyrollup" in q["sql"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_of_one_hostels_meters_both_land_in_its_hour(
    hall: tuple[Hostel, list[Meter], Meter],
) -> None:
    import threading
    import time

    from django.db import connection, transaction

    hostel = hall[0]
    first_written, second_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                _ingest(_rows("R-0", 4))
                first_written.set()
                second_started.wait(10)
                time.sleep(0.5)  # the second batch reaches its hostel rollups while this one is open
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_written.wait(20)
    second_started.set()
    # Each batch locks only its own meters; without the hostel lock this one's sum would miss the first's
    # uncommitted kWh, or clash with its row (a unique violation).
    _ingest(_rows("R-1", 4, kwh=0.5))
    thread.join(20)
    assert not errors
    assert _stored() == _from_meters()
    assert HostelHourlyRollup.objects.get(hostel=hostel, kind=Meter.Kind.ROOM, hour=T0).kwh == pytest.approx(3.0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_bulk_import_sums_its_hostel_hours_from_the_hours_it_wrote(
    hall: tuple[Hostel, list[Meter], Meter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk import's hostel hours come from the hours it has just COPied (not read back), and equal the
    sum of every meter's rollups: other meters' hours in the same span and its own older hours included."""
    from meters.ingest import hostel_rollups

    used: list[int] = []
    exact_path = hostel_rollups._recompute_postgresql_exact

    def spy(groups: Any, exact: Any) -> int:
        used.append(len(exact))
        return exact_path(groups, exact)

    monkeypatch.setattr(hostel_rollups, "_recompute_postgresql_exact", spy)
    hostel = hall[0]
    # Older hours of R-0 (before the import's span), and R-2's hours overlapping it: both read from the table.
    _ingest(_rows("R-0", 16, start=T0 - dt.timedelta(days=2), kwh=0.1, volts=228.0))
    _ingest(_rows("R-2", 96 * 3, start=T0 + dt.timedelta(days=1), kwh=0.3, volts=226.0))
    assert not used  # small batches take the table's path
    # R-1 starts three days before T0, so the span recomputed holds R-0's older hours too. The main meter
    # measures no voltage: its hours' sums stay NULL and their counts 0.
    early = T0 - dt.timedelta(days=3)
    bulk = (
        _rows("R-0", 96 * 20, volts=230.0)
        + _rows("R-1", 96 * 23, start=early, kwh=0.5, volts=240.0)
        + _rows("MAIN", 96 * 20, kwh=2.0)
    )
    _ingest(bulk)
    assert used == [24 * (20 + 23 + 20)]  # the three meters' hours, summed while written, in one pass
    stored = _stored(quality=True)
    assert stored == _from_meters(quality=True)
    # A room hour inside R-2's span: R-0 1.0 + R-1 2.0 + R-2 1.2 kWh, three meters, 12 readings, voltage
    # averages 230.75 + 240.75 + 226.75 V, from 226 V to 241.5 V, power factors 3 x 0.875.
    assert stored[(hostel.pk, Meter.Kind.ROOM, T0 + dt.timedelta(days=1, hours=5))] == (
        pytest.approx(4.2),
        3,
        12,
        698.25,
        3,
        226.0,
        241.5,
        2.625,
        3,
    )
    # R-0's older hours (inside the span, outside what the import wrote for it) are still counted.
    assert stored[(hostel.pk, Meter.Kind.ROOM, T0 - dt.timedelta(days=2))] == (
        pytest.approx(2.4),
        2,
        8,
        469.5,
        2,
        228.0,
        241.5,
        1.75,
        2,
    )
    assert stored[(hostel.pk, Meter.Kind.HOSTEL_MAIN, T0)][3:] == (None, 0, None, None, None, 0)
    hostel_rollups_rebuild()
    assert _stored(quality=True) == stored


def test_the_migration_fills_power_quality_from_the_meters_hours(hall: tuple[Hostel, list[Meter], Meter]) -> None:
    import importlib

    from django.db import connection

    _ingest(_rows("R-0", 8, volts=230.0) + _rows("R-1", 8, volts=240.0) + _rows("MAIN", 8, kwh=2.0))
    expected = _stored(quality=True)
    # Rows as meters 0013 left them: energy only.
    HostelHourlyRollup.objects.update(
        voltage_sum=None,
        voltage_count=0,
        voltage_min=None,
        voltage_max=None,
        power_factor_sum=None,
        power_factor_count=0,
    )
    migration = importlib.import_module("meters.migrations.0015_hostel_rollup_power_quality")
    with connection.cursor() as cursor:
        for statement in migration.BACKFILL:
            cursor.execute(statement)
    assert _stored(quality=True) == expected == _from_meters(quality=True)
