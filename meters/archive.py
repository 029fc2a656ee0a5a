"""Raw readings out of the database into Parquet, by month and site; rollups stay.

Each file has the columns `import_readings` reads (meter, timestamp, kwh, voltage, current,
power_factor) and `quality`, so importing it restores every reading exactly: the same values and
quality, cumulative meters included, and nothing twice (readings are unique per meter and time).
Rows leave the database in the same transaction that wrote them to a finished file: a whole month
whose partition holds nothing else is dropped as a table; otherwise the rows are deleted with
RETURNING, so what is removed is exactly what was written. A file is never overwritten: a second
run for a month (late rows) writes the next free name. Details: docs/readings-history.md.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import connection, transaction

from meters.models import Meter, Quality, Reading
from meters.partitions import (
    month_after,
    month_start,
    partition_for,
    reading_partition_drop,
    reading_partitions,
    readings_partitioned,
)

NO_SITE = "no-site"
METERS_PER_BATCH = 200
SCHEMA = pa.schema(
    [
        ("meter", pa.string()),
        ("timestamp", pa.timestamp("s", tz="UTC")),
        ("kwh", pa.float64()),
        ("voltage", pa.float64()),
        ("current", pa.float64()),
        ("power_factor", pa.float64()),
        ("quality", pa.string()),
    ]
)
_QUALITY_NAMES = {int(choice): choice.name.lower() for choice in Quality}
Progress = Callable[[int], None]


@dataclass
class ArchiveResult:
    """What an archive run did: rows written and removed, files, partitions dropped."""

    archived: int = 0
    files: list[str] = field(default_factory=list)
    partitions_dropped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Seconds per step (bench/archive_month.py): copy (rows out of the database), arrow (Arrow
    # tables), parquet (compressing and writing files), count and drop (whole partitions).
    steps: dict[str, float] = field(default_factory=dict)

    def timed(self, step: str, started: float) -> None:
        self.steps[step] = self.steps.get(step, 0.0) + time.perf_counter() - started

    def summary(self) -> dict[str, object]:
        return {
            "archived": self.archived,
            "files": self.files,
            "partitions_dropped": self.partitions_dropped,
            "seconds": round(self.seconds, 2),
        }


def readings_to_archive(*, before: dt.datetime) -> int:
    """How many readings an archive up to `before` would take out (for progress bars)."""
    return Reading.objects.filter(timestamp__lt=before).count()


def _meters_by_site() -> dict[str, dict[int, str]]:
    sites: dict[str, dict[int, str]] = {}
    for meter_id, serial, site in Meter.objects.values_list("id", "serial", "hostel__site__code"):
        sites.setdefault(site or NO_SITE, {})[meter_id] = serial
    return sites


def _free_path(directory: Path, site: str, month: dt.datetime) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    base = f"readings-{site}-{month:%Y-%m}"
    path, n = directory / f"{base}.parquet", 1
    while path.exists():
        n += 1
        path = directory / f"{base}.{n}.parquet"
    return path


def _table(rows: list[tuple[Any, ...]], serials: dict[int, str]) -> pa.Table:
    """Rows fetched as tuples (SQLite) as an Arrow table in the archive's schema."""
    meter_ids, stamps, kwh, voltage, current, power_factor, quality = zip(*rows, strict=True)
    return pa.table(
        [
            pa.array([serials[meter_id] for meter_id in meter_ids], pa.string()),
            pa.array(stamps, pa.timestamp("us", tz="UTC")).cast(pa.timestamp("s", tz="UTC")),
            pa.array(kwh, pa.float64()),
            pa.array(voltage, pa.float64()),
            pa.array(current, pa.float64()),
            pa.array(power_factor, pa.float64()),
            pa.array([_QUALITY_NAMES[int(code)] for code in quality], pa.string()),
        ],
        schema=SCHEMA,
    )


_COPY_TYPES = {
    "meter_id": pa.int64(),
    "epoch": pa.int64(),
    "kwh": pa.float64(),
    "voltage": pa.float64(),
    "current": pa.float64(),
    "power_factor": pa.float64(),
    "quality": pa.int64(),
}


def _copied_table(data: bytes, serials: dict[int, str]) -> pa.Table:
    """COPY's CSV (PostgreSQL) as an Arrow table in the archive's schema, parsed and mapped in C."""
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    raw = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(column_names=list(_COPY_TYPES)),
        convert_options=pacsv.ConvertOptions(column_types=_COPY_TYPES),
    )
    # Ordered by meter id and time: sorting two integer columns, not the serials' strings.
    raw = raw.take(pc.sort_indices(raw, sort_keys=[("meter_id", "ascending"), ("epoch", "ascending")]))
    ids = sorted(serials)
    positions = pc.index_in(raw["meter_id"], value_set=pa.array(ids, pa.int64()))
    codes = sorted(_QUALITY_NAMES)
    return pa.table(
        [
            pc.take(pa.array([serials[meter_id] for meter_id in ids], pa.string()), positions),
            raw["epoch"].cast(pa.timestamp("s", tz="UTC")),
            raw["kwh"],
            raw["voltage"],
            raw["current"],
            raw["power_factor"],
            pc.take(
                pa.array([_QUALITY_NAMES[code] for code in codes], pa.string()),
                pc.index_in(raw["quality"], value_set=pa.array(codes, pa.int64())),
            ),
        ],
        schema=SCHEMA,
    )


_COLUMNS = "meter_id, timestamp, kwh, voltage, current, power_factor, quality"
# date_part is float8 (exact to the microsecond for any date of readings); extract() is numeric, slower.
_COPY_COLUMNS = "meter_id, floor(date_part('epoch', timestamp))::bigint, kwh, voltage, current, power_factor, quality"


def _batches(
    cur: Any, *, serials: dict[int, str], low: dt.datetime, high: dt.datetime, delete: bool, result: ArchiveResult
) -> Iterator[pa.Table]:
    """The rows of these meters in [low, high), a batch of meters at a time, ordered by meter and time;
    deleted as they are read when `delete` (the same rows, by RETURNING). PostgreSQL streams them by
    COPY (a DELETE ... RETURNING can be copied too); SQLite fetches tuples."""
    table = Reading._meta.db_table
    # As Django stores them (SQLite compares text: an offset in the bound would shift it).
    low_value = connection.ops.adapt_datetimefield_value(low)
    high_value = connection.ops.adapt_datetimefield_value(high)
    meter_ids = sorted(serials)
    postgresql = connection.vendor == "postgresql"
    for start in range(0, len(meter_ids), METERS_PER_BATCH):
        batch = meter_ids[start : start + METERS_PER_BATCH]
        marks = ", ".join(["%s"] * len(batch))
        where = f"meter_id IN ({marks}) AND timestamp >= %s AND timestamp < %s"
        params = [*batch, low_value, high_value]
        if postgresql:
            query = (
                f"DELETE FROM {table} WHERE {where} RETURNING {_COPY_COLUMNS}"
                if delete
                else f"SELECT {_COPY_COLUMNS} FROM {table} WHERE {where}"
            )
            sql = connection.ops.compose_sql(f"COPY ({query}) TO STDOUT (FORMAT csv)", params)  # type: ignore[attr-defined]
            started = time.perf_counter()
            with cur.cursor.copy(sql) as copy:
                data = b"".join(bytes(block) for block in copy)
            result.timed("copy", started)
            if data:
                started = time.perf_counter()
                arrow_table = _copied_table(data, serials)
                result.timed("arrow", started)
                yield arrow_table
            continue
        if delete:
            cur.execute(f"DELETE FROM {table} WHERE {where} RETURNING {_COLUMNS}", params)
        else:
            cur.execute(f"SELECT {_COLUMNS} FROM {table} WHERE {where}", params)
        rows = cur.fetchall()
        if rows:
            rows.sort(key=lambda row: (row[0], row[1]))
            yield _table(rows, serials)


def _write_month(
    cur: Any,
    *,
    to: Path,
    sites: dict[str, dict[int, str]],
    low: dt.datetime,
    high: dt.datetime,
    delete: bool,
    result: ArchiveResult,
    progress: Progress | None,
) -> int:
    """Write (and, with `delete`, remove) one month's rows, one file per site; rows written."""
    written = 0
    for site, serials in sorted(sites.items()):
        writer: pq.ParquetWriter | None = None
        temporary = path = None
        try:
            for rows in _batches(cur, serials=serials, low=low, high=high, delete=delete, result=result):
                started = time.perf_counter()
                if writer is None:
                    path = _free_path(to / site, site, low)
                    temporary = path.with_name(path.name + ".part")
                    writer = pq.ParquetWriter(temporary, SCHEMA, compression="zstd")
                writer.write_table(rows, row_group_size=256_000)
                result.timed("parquet", started)
                written += rows.num_rows
                if progress is not None:
                    progress(rows.num_rows)
            if writer is not None:
                started = time.perf_counter()
                writer.close()
                writer = None
                assert temporary is not None
                assert path is not None
                with temporary.open("rb") as handle:
                    os.fsync(handle.fileno())
                temporary.rename(path)
                result.timed("parquet", started)
                result.files.append(str(path))
        finally:
            if writer is not None:
                writer.close()
            if temporary is not None and temporary.exists():
                temporary.unlink()
    return written


def readings_archive(*, before: dt.datetime, to: Path, progress: Progress | None = None) -> ArchiveResult:
    """Archive every raw reading older than `before` to Parquet under `to` and remove it.

    One transaction per month: a failure leaves earlier months archived and this one untouched in the
    database (a file it finished is harmless: importing it changes nothing while the rows are stored).
    """
    # Its own name: the steps below time themselves with `started`, and the total must not be theirs.
    run_started = time.perf_counter()
    result = ArchiveResult()
    first = Reading.objects.filter(timestamp__lt=before).order_by("timestamp").values_list("timestamp", flat=True)
    oldest = first.first()
    if oldest is None:
        result.seconds = time.perf_counter() - run_started
        return result
    sites = _meters_by_site()
    partitioned = readings_partitioned()
    month = month_start(oldest)
    while month < before:
        high = min(month_after(month), before)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"SELECT 1 FROM {Reading._meta.db_table} WHERE timestamp >= %s AND timestamp < %s LIMIT 1",
                [connection.ops.adapt_datetimefield_value(month), connection.ops.adapt_datetimefield_value(high)],
            )
            if cur.fetchone() is None:
                month = high
                continue
            whole = (
                partitioned
                and high == month_after(month)
                and any(part.start == month for part in reading_partitions(cur))
            )
            if whole:
                part = partition_for(month)
                # Nothing may change in the month between reading it and dropping it.
                started = time.perf_counter()
                cur.execute(f"LOCK TABLE {part.name} IN SHARE MODE")
                cur.execute(f"SELECT count(*) FROM {part.name}")
                stored = int(cur.fetchone()[0])
                result.timed("count", started)
                written = _write_month(
                    cur, to=to, sites=sites, low=month, high=high, delete=False, result=result, progress=progress
                )
                if written != stored:
                    raise RuntimeError(
                        f"{part.name}: {stored} rows stored, {written} belong to known meters; "
                        "nothing removed (delete the readings of meters that no longer exist first)"
                    )
                started = time.perf_counter()
                reading_partition_drop(cur, part)
                result.timed("drop", started)
                result.partitions_dropped.append(part.name)
            else:
                written = _write_month(
                    cur, to=to, sites=sites, low=month, high=high, delete=True, result=result, progress=progress
                )
            result.archived += written
        month = high
    result.seconds = time.perf_counter() - run_started
    return result


def readings_archive_cutoff(*, now: dt.datetime | None = None) -> dt.datetime | None:
    """The first instant kept by RAW_READINGS_KEEP_MONTHS: the start of the month that many whole
    months before this one (None: keep everything)."""
    from django.conf import settings
    from django.utils import timezone

    keep = settings.RAW_READINGS_KEEP_MONTHS
    if not keep:
        return None
    start = month_start(now or timezone.now())
    index = start.year * 12 + start.month - 1 - keep
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)
