"""archive_readings: raw readings to Parquet by month and site, removed; import_readings brings them back
exactly. Runs on the database the tests run on (SQLite, or PostgreSQL with its monthly partitions)."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from meters.archive import readings_archive_cutoff
from meters.ingest import readings_ingest
from meters.models import DailyRollup, HourlyRollup, Meter, Quality, QuarantinedReading, Reading
from meters.partitions import reading_partitions_ensure
from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory, SiteFactory

START = dt.datetime(2025, 1, 20, tzinfo=dt.UTC)
NOW = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)


def hourly(serial: str, hours: int, *, kwh: Any = 0.5, skip: set[int] = frozenset()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    return [
        {
            "meter": serial,
            "timestamp": (START + dt.timedelta(hours=k)).isoformat(),
            "kwh": kwh(k) if callable(kwh) else kwh,
            "voltage": 230.0 + k % 7,
            "power_factor": 0.9,
        }
        for k in range(hours)
        if k not in skip
    ]


@pytest.fixture
def history(db: None) -> list[Meter]:
    """Two sites, hourly readings from 20 Jan to 21 Mar 2025: raw, estimated (a filled gap), corrected,
    and a cumulative meter's intervals."""
    north = HostelFactory.create(site=SiteFactory.create(code="north"), code="N")
    south = HostelFactory.create(site=SiteFactory.create(code="south"), code="S")
    room_n = MeterFactory.create(serial="RM-N", room=RoomFactory.create(hostel=north), interval_minutes=60)
    room_s = MeterFactory.create(serial="RM-S", room=RoomFactory.create(hostel=south), interval_minutes=60)
    register = MeterFactory.create(
        serial="REG-S",
        kind=Meter.Kind.FEEDER,
        room=None,
        hostel=south,
        interval_minutes=60,
        register=Meter.Register.CUMULATIVE,
        rated_kw=20.0,
    )
    hours = 60 * 24
    readings_ingest(rows=hourly("RM-N", hours, kwh=lambda k: 0.2 + (k % 24) / 100), source="t", now=NOW)
    readings_ingest(rows=hourly("RM-S", hours, skip={300}), source="t", now=NOW)  # one hour estimated
    readings_ingest(rows=hourly("RM-S", 10, kwh=0.75), source="t", now=NOW)  # corrected
    readings_ingest(rows=hourly("REG-S", hours, kwh=lambda k: 1000.0 + k * 1.5), source="t", now=NOW)
    return [room_n, room_s, register]


def snapshot() -> list[tuple[Any, ...]]:
    return sorted(
        Reading.objects.values_list(
            "meter__serial", "timestamp", "kwh", "voltage", "current", "power_factor", "quality"
        )
    )


def archive(before: str, to: Path) -> dict[str, Any]:
    out = io.StringIO()
    call_command("archive_readings", "--before", before, "--to", str(to), "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def import_all(files: list[str]) -> list[dict[str, Any]]:
    summaries = []
    for name in sorted(files):
        out = io.StringIO()
        call_command("import_readings", name, "--json", stdout=out)
        summaries.append(json.loads(out.getvalue().strip().splitlines()[-1]))
    return summaries


@pytest.mark.django_db(transaction=True)
def test_archived_months_leave_the_database_and_come_back_exactly(history: list[Meter], tmp_path: Path) -> None:
    reading_partitions_ensure(now=NOW)  # PostgreSQL: the months move out of the default partition
    before = snapshot()
    qualities = {row[-1] for row in before}
    assert qualities == {Quality.RAW, Quality.ESTIMATED, Quality.CORRECTED}
    old = [row for row in before if row[1] < dt.datetime(2025, 3, 1, tzinfo=dt.UTC)]
    hourly_rollups, daily_rollups = HourlyRollup.objects.count(), DailyRollup.objects.count()

    summary = archive("2025-03-01", tmp_path)

    assert summary["archived"] == len(old)
    names = sorted(Path(name).relative_to(tmp_path).as_posix() for name in summary["files"])
    assert names == [
        "north/readings-north-2025-01.parquet",
        "north/readings-north-2025-02.parquet",
        "south/readings-south-2025-01.parquet",
        "south/readings-south-2025-02.parquet",
    ]
    assert sum(pq.ParquetFile(name).metadata.num_rows for name in summary["files"]) == len(old)
    assert pq.ParquetFile(summary["files"][0]).metadata.row_group(0).column(0).compression == "ZSTD"
    assert not Reading.objects.filter(timestamp__lt=dt.datetime(2025, 3, 1, tzinfo=dt.UTC)).exists()
    assert Reading.objects.count() == len(before) - len(old)
    assert (HourlyRollup.objects.count(), DailyRollup.objects.count()) == (hourly_rollups, daily_rollups)
    if connection.vendor == "postgresql":
        assert summary["partitions_dropped"] == ["meters_reading_p2025_01", "meters_reading_p2025_02"]

    imported = import_all(summary["files"])
    assert sum(item["accepted"] for item in imported) == len(old)
    assert sum(item["rejected"] + item["updated"] for item in imported) == 0
    assert snapshot() == before

    again = import_all(summary["files"])  # nothing doubled
    assert sum(item["accepted"] + item["updated"] for item in again) == 0
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_part_of_a_month_is_deleted_row_by_row_and_a_second_run_never_overwrites(
    history: list[Meter], tmp_path: Path
) -> None:
    reading_partitions_ensure(now=NOW)
    before = snapshot()
    cut = dt.datetime(2025, 2, 10, tzinfo=dt.UTC)
    first = archive("2025-02-10", tmp_path)
    assert first["archived"] == sum(1 for row in before if row[1] < cut)
    assert first["partitions_dropped"] == (["meters_reading_p2025_01"] if connection.vendor == "postgresql" else [])
    assert Reading.objects.filter(timestamp__lt=cut).count() == 0
    assert Reading.objects.filter(timestamp__gte=cut, timestamp__lt=dt.datetime(2025, 3, 1, tzinfo=dt.UTC)).exists()
    second = archive("2025-02-20", tmp_path)
    assert second["archived"] == sum(1 for row in before if cut <= row[1] < dt.datetime(2025, 2, 20, tzinfo=dt.UTC))
    assert "north/readings-north-2025-02.2.parquet" in {
        Path(name).relative_to(tmp_path).as_posix() for name in second["files"]
    }
    import_all(first["files"] + second["files"])
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_the_runs_seconds_cover_every_step_of_it(
    history: list[Meter], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meters import archive as archive_module

    ticks = iter(float(n) for n in range(1_000_000))  # a clock that moves a second at each look
    monkeypatch.setattr(archive_module.time, "perf_counter", lambda: next(ticks))
    reading_partitions_ensure(now=NOW)
    result = archive_module.readings_archive(before=dt.datetime(2025, 3, 1, tzinfo=dt.UTC), to=tmp_path)
    assert result.archived > 0
    # Whole partitions were timed by steps of their own (count, drop) that once reset the run's clock.
    assert result.seconds >= sum(result.steps.values()) > 0


@pytest.mark.django_db
def test_nothing_to_archive_writes_no_file(history: list[Meter], tmp_path: Path) -> None:
    summary = archive("2024-06-01", tmp_path)
    assert (summary["archived"], summary["files"], summary["partitions_dropped"]) == (0, [], [])
    assert not any(tmp_path.iterdir())


@pytest.mark.django_db
def test_a_bad_date_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--before '1 March': expected a date"):
        call_command("archive_readings", "--before", "1 March", "--to", str(tmp_path))


@pytest.mark.django_db
def test_an_unknown_quality_in_a_file_is_rejected_with_its_reason(history: list[Meter], tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("meter,timestamp,kwh,quality\nRM-N,2025-06-01T00:00:00Z,0.5,guessed\n")
    out = io.StringIO()
    call_command("import_readings", str(path), "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["rejected"] == 1
    assert QuarantinedReading.objects.get().reason == "quality must be raw, estimated or corrected"


def test_the_schedule_keeps_whole_months(settings: Any) -> None:
    settings.RAW_READINGS_KEEP_MONTHS = 0
    assert readings_archive_cutoff(now=NOW) is None
    settings.RAW_READINGS_KEEP_MONTHS = 13
    assert readings_archive_cutoff(now=dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)) == dt.datetime(
        2024, 12, 1, tzinfo=dt.UTC
    )


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_archive_runs_only_when_a_retention_is_set(
    history: list[Meter], tmp_path: Path, settings: Any
) -> None:
    from meters.tasks import readings_archive_due

    settings.READINGS_ARCHIVE_DIR = tmp_path
    settings.RAW_READINGS_KEEP_MONTHS = 0
    assert readings_archive_due()["archived"] == 0
    count = Reading.objects.count()
    settings.RAW_READINGS_KEEP_MONTHS = 1200
    assert readings_archive_due()["archived"] == 0
    assert Reading.objects.count() == count
    settings.RAW_READINGS_KEEP_MONTHS = 1  # everything before last month: all of 2025's history here
    result = readings_archive_due()
    assert result["archived"] == count
    assert Reading.objects.count() == 0
