"""Bulk writing of readings and rollups: binary COPY on PostgreSQL, executemany on SQLite, or a CSV file.

Each call writes one chunk of meters and commits, so memory stays flat however long the history.
Rollups are computed in numpy from the same arrays (hours in UTC, days in the site's local time),
so no per-meter ORM loop ever runs.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from django.db import connection, transaction

from meters.models import DailyRollup, HourlyRollup, Reading
from meters.simulation.timeline import EPOCH_2000, STEPS_PER_HOUR, Timeline


@dataclass
class Chunk:
    """Reported values of some meters on the whole grid; `valid` says which rows exist."""

    meter_ids: np.ndarray  # (meters,) database ids (or indexes in CSV mode)
    serials: list[str]
    kwh: np.ndarray  # (meters, steps) float64
    voltage: np.ndarray
    current: np.ndarray
    power_factor: np.ndarray
    quality: np.ndarray  # int16
    valid: np.ndarray  # bool


@dataclass
class Rollups:
    """Hourly and daily rollup columns for one chunk, one entry per (meter, bucket) with readings."""

    hour_meter: np.ndarray
    hour_epoch: np.ndarray
    hour_kwh: np.ndarray
    hour_n: np.ndarray
    hour_est: np.ndarray
    hour_peak: np.ndarray
    hour_v_avg: np.ndarray
    hour_v_min: np.ndarray
    hour_v_max: np.ndarray
    hour_pf: np.ndarray
    day_meter: np.ndarray
    day_index: np.ndarray
    day_kwh: np.ndarray
    day_n: np.ndarray
    day_est: np.ndarray
    day_peak: np.ndarray
    last_step: np.ndarray  # (meters,) last step with a reading, -1 if none


def rollups_compute(chunk: Chunk, timeline: Timeline) -> Rollups:
    """Hourly (UTC) and daily (local) sums, counts, peaks and power quality, as rollups_rebuild defines them."""
    meters, steps = chunk.kwh.shape
    pad = (-steps) % STEPS_PER_HOUR
    hours = (steps + pad) // STEPS_PER_HOUR

    def shaped(values: np.ndarray, fill: float | bool) -> np.ndarray:
        padded = np.pad(values, ((0, 0), (0, pad)), constant_values=fill) if pad else values
        return padded.reshape(meters, hours, STEPS_PER_HOUR)

    # A register reset's naive negative delta is written as delivered (detection flags it), but never
    # summed: ingestion would have quarantined it ("negative energy"), so rollups never see one.
    summable = chunk.valid & (chunk.kwh >= 0)
    valid = shaped(summable, False)
    kwh = shaped(chunk.kwh, 0.0)
    volts = shaped(chunk.voltage, 0.0)
    pf = shaped(chunk.power_factor, 0.0)
    est = shaped((chunk.quality == 1) & summable, False)
    n = valid.sum(axis=2)
    safe_n = np.maximum(n, 1)
    has = n > 0
    m_idx, h_idx = np.nonzero(has)
    hour_kwh = np.where(valid, kwh, 0.0).sum(axis=2)
    hour_peak = np.where(valid, kwh, -np.inf).max(axis=2) * STEPS_PER_HOUR
    v_avg = np.where(valid, volts, 0.0).sum(axis=2) / safe_n
    v_min = np.where(valid, volts, np.inf).min(axis=2)
    v_max = np.where(valid, volts, -np.inf).max(axis=2)
    pf_avg = np.where(valid, pf, 0.0).sum(axis=2) / safe_n

    bounds = np.searchsorted(timeline.day, np.arange(timeline.days))
    valid2 = summable
    day_kwh = np.add.reduceat(np.where(valid2, chunk.kwh, 0.0), bounds, axis=1)
    day_n = np.add.reduceat(valid2.astype(np.int64), bounds, axis=1)
    day_est = np.add.reduceat(((chunk.quality == 1) & valid2).astype(np.int64), bounds, axis=1)
    day_peak = np.maximum.reduceat(np.where(valid2, chunk.kwh, -np.inf), bounds, axis=1) * STEPS_PER_HOUR
    dm, dd = np.nonzero(day_n > 0)
    any_valid = valid2.any(axis=1)
    last = np.where(any_valid, steps - 1 - np.argmax(valid2[:, ::-1], axis=1), -1)
    return Rollups(
        hour_meter=chunk.meter_ids[m_idx],
        hour_epoch=timeline.epoch[0] + 3600 * h_idx.astype(np.int64),
        hour_kwh=np.round(hour_kwh[m_idx, h_idx], 6),
        hour_n=n[m_idx, h_idx],
        hour_est=est.sum(axis=2)[m_idx, h_idx],
        hour_peak=hour_peak[m_idx, h_idx],
        hour_v_avg=v_avg[m_idx, h_idx],
        hour_v_min=v_min[m_idx, h_idx],
        hour_v_max=v_max[m_idx, h_idx],
        hour_pf=pf_avg[m_idx, h_idx],
        day_meter=chunk.meter_ids[dm],
        day_index=dd,
        day_kwh=np.round(day_kwh[dm, dd], 6),
        day_n=day_n[dm, dd],
        day_est=day_est[dm, dd],
        day_peak=day_peak[dm, dd],
        last_step=last,
    )


class Sink(Protocol):
    def write(self, chunk: Chunk, rollups: Rollups | None) -> int: ...

    def close(self) -> None: ...


def _binary(columns: list[tuple[np.ndarray, str]]) -> bytes:
    """Rows in PostgreSQL's binary COPY format: fixed-width columns make it one numpy buffer."""
    n = len(columns[0][0])
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, (_, kind) in enumerate(columns):
        fields += [(f"l{i}", ">i4"), (f"v{i}", kind)]
    rows = np.empty(n, dtype=fields)
    rows["count"] = len(columns)
    for i, (values, kind) in enumerate(columns):
        rows[f"l{i}"] = np.dtype(kind).itemsize
        rows[f"v{i}"] = values
    return rows.tobytes()


_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)


def _pg_timestamp(epoch: np.ndarray) -> np.ndarray:
    return (epoch.astype(np.int64) - EPOCH_2000) * 1_000_000


class DatabaseSink:
    """Writes chunks into meters_reading, meters_hourlyrollup and meters_dailyrollup."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.postgres = connection.vendor == "postgresql"
        self.pg_epoch_days = (np.datetime64(timeline.start_date) - np.datetime64("2000-01-01")).astype(np.int64)
        if not self.postgres:
            # The default 2 MB page cache makes every index insert a disk read; a big one keeps them in memory.
            connection.ensure_connection()
            connection.connection.execute("PRAGMA cache_size = -262144")
            stamps = pd.to_datetime(timeline.epoch, unit="s")
            self.step_text = np.asarray(stamps.strftime("%Y-%m-%d %H:%M:%S"), dtype=object)
            self.day_text = np.array([d.isoformat() for d in timeline.dates], dtype=object)

    def write(self, chunk: Chunk, rollups: Rollups | None) -> int:
        mi, ti = np.nonzero(chunk.valid)
        with transaction.atomic():
            if self.postgres:
                self._copy_readings(chunk, mi, ti)
                if rollups is not None:
                    self._copy_rollups(rollups)
            else:
                self._insert_readings(chunk, mi, ti)
                if rollups is not None:
                    self._insert_rollups(rollups)
        return len(mi)

    def close(self) -> None:
        return None

    def _copy(self, table: str, columns: list[str], data: list[tuple[np.ndarray, str]]) -> None:
        if len(data[0][0]) == 0:
            return
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT BINARY)"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(_HEADER)
            copy.write(_binary(data))
            copy.write(_TRAILER)

    def _copy_readings(self, chunk: Chunk, mi: np.ndarray, ti: np.ndarray) -> None:
        self._copy(
            Reading._meta.db_table,
            ["meter_id", "timestamp", "kwh", "voltage", "current", "power_factor", "quality"],
            [
                (chunk.meter_ids[mi], ">i8"),
                (_pg_timestamp(self.timeline.epoch[ti]), ">i8"),
                (chunk.kwh[mi, ti], ">f8"),
                (chunk.voltage[mi, ti], ">f8"),
                (chunk.current[mi, ti], ">f8"),
                (chunk.power_factor[mi, ti], ">f8"),
                (chunk.quality[mi, ti], ">i2"),
            ],
        )

    def _copy_rollups(self, r: Rollups) -> None:
        self._copy(
            HourlyRollup._meta.db_table,
            [
                *("meter_id", "hour", "kwh", "readings", "estimated", "peak_kw"),
                *("voltage_avg", "voltage_min", "voltage_max", "power_factor_avg"),
            ],
            [
                (r.hour_meter, ">i8"),
                (_pg_timestamp(r.hour_epoch), ">i8"),
                (r.hour_kwh, ">f8"),
                (r.hour_n, ">i2"),
                (r.hour_est, ">i2"),
                (r.hour_peak, ">f8"),
                (r.hour_v_avg, ">f8"),
                (r.hour_v_min, ">f8"),
                (r.hour_v_max, ">f8"),
                (r.hour_pf, ">f8"),
            ],
        )
        self._copy(
            DailyRollup._meta.db_table,
            ["meter_id", "day", "kwh", "readings", "estimated", "peak_kw"],
            [
                (r.day_meter, ">i8"),
                (self.pg_epoch_days + r.day_index, ">i4"),
                (r.day_kwh, ">f8"),
                (r.day_n, ">i4"),
                (r.day_est, ">i4"),
                (r.day_peak, ">f8"),
            ],
        )

    # Table names below come from model metadata, never from input.
    def _insert_readings(self, chunk: Chunk, mi: np.ndarray, ti: np.ndarray) -> None:
        rows = zip(
            chunk.meter_ids[mi].tolist(),
            self.step_text[ti].tolist(),
            chunk.kwh[mi, ti].tolist(),
            chunk.voltage[mi, ti].tolist(),
            chunk.current[mi, ti].tolist(),
            chunk.power_factor[mi, ti].tolist(),
            chunk.quality[mi, ti].tolist(),
            strict=True,
        )
        sql = (
            f"INSERT INTO {Reading._meta.db_table} (meter_id, timestamp, kwh, voltage, current, power_factor, quality)"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        connection.ensure_connection()
        connection.connection.executemany(sql, rows)

    def _insert_rollups(self, r: Rollups) -> None:
        hour_text = np.asarray(
            pd.to_datetime(r.hour_epoch, unit="s").strftime("%Y-%m-%d %H:%M:%S"), dtype=object
        ).tolist()
        hourly = zip(
            r.hour_meter.tolist(),
            hour_text,
            r.hour_kwh.tolist(),
            r.hour_n.tolist(),
            r.hour_est.tolist(),
            r.hour_peak.tolist(),
            r.hour_v_avg.tolist(),
            r.hour_v_min.tolist(),
            r.hour_v_max.tolist(),
            r.hour_pf.tolist(),
            strict=True,
        )
        daily = zip(
            r.day_meter.tolist(),
            self.day_text[r.day_index].tolist(),
            r.day_kwh.tolist(),
            r.day_n.tolist(),
            r.day_est.tolist(),
            r.day_peak.tolist(),
            strict=True,
        )
        raw = connection.connection
        raw.executemany(
            f"INSERT INTO {HourlyRollup._meta.db_table} (meter_id, hour, kwh, readings, estimated, peak_kw,"  # noqa: S608
            " voltage_avg, voltage_min, voltage_max, power_factor_avg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            hourly,
        )
        raw.executemany(
            f"INSERT INTO {DailyRollup._meta.db_table} (meter_id, day, kwh, readings, estimated, peak_kw)"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?)",
            daily,
        )


_SECONDARY_INDEXES = {
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
    "postgresql": (
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.schemaname = current_schema()"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
        " WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)"
    ),
}
_FOREIGN_KEYS = (
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE contype = 'f' AND conrelid = (quote_ident(current_schema()) || '.' || quote_ident(%s))::regclass"
)


@contextlib.contextmanager
def bulk_load_mode(tables: list[str]) -> Iterator[None]:
    """Load empty tables the way PostgreSQL's "Populating a Database" advises, and SQLite likes too.

    Plain indexes are dropped and built once at the end (sorting once beats updating row by row);
    on PostgreSQL foreign keys are dropped and added back, which checks them all in one join
    instead of one trigger per row. Unique constraints stay. Tables that hold rows are left alone.
    The tables are analyzed at the end, so the planner knows what was loaded.
    """
    if not tables:
        yield
        return
    quote = connection.ops.quote_name
    query = _SECONDARY_INDEXES.get(connection.vendor)
    postgres = connection.vendor == "postgresql"
    dropped: list[str] = []
    foreign: list[tuple[str, str, str]] = []
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '256MB'")
            # Inside a transaction (tests), deferred checks of the estate rows must run before ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in tables if query is not None else []:
            cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")  # noqa: S608 - a model's table name
            if cursor.fetchone() is not None:
                continue
            cursor.execute(query or "", [table])
            for name, sql in cursor.fetchall():
                cursor.execute(f"DROP INDEX {quote(name)}")
                dropped.append(sql)
            if postgres:
                cursor.execute(_FOREIGN_KEYS, [table])
                for name, definition in cursor.fetchall():
                    cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
                    foreign.append((table, name, definition))
    checks_off = connection.constraint_checks_disabled() if not postgres else contextlib.nullcontext()
    try:
        with checks_off:
            yield
    finally:
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for sql in dropped:
                # A partitioned table's index is defined "ON ONLY" the parent; built that way it would
                # stay invalid and leave every partition without it. Without ONLY it builds them all.
                cursor.execute(sql.replace(" ON ONLY ", " ON ", 1))
            for table, name, definition in foreign:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
            if postgres:
                cursor.execute("SET synchronous_commit = on")
                cursor.execute("RESET maintenance_work_mem")
            # "Run ANALYZE afterwards": without statistics the planner guesses row counts of millions of
            # fresh rows (measured on the large campus: the hostel page's rollup query 286 ms -> 20 ms).
            for table in tables:
                cursor.execute(f"ANALYZE {quote(table)}")
        if connection.vendor == "sqlite" and dropped:
            connection.check_constraints(table_names=tables)


def tables_analyze(*, skip: list[str]) -> list[str]:
    """ANALYZE every table of the project but those in `skip` (PostgreSQL; returns the tables analyzed).

    A simulated estate is written in one go (meters, rooms, customers, hostel rollups, occupancy...), and
    its pages are often measured right after. Until autovacuum analyzes them (never, where it is off) the
    planner guesses a handful of rows in these tables: measured on the 35-day university, the hostel
    comparison's cost query 169 ms with a nested loop over 5,032 meters it expected to be 2, 116 ms after
    ANALYZE; a carbon query 172 -> 33 ms (issue 29)."""
    if connection.vendor != "postgresql":
        return []
    tables = [table for table in connection.introspection.django_table_names(only_existing=True) if table not in skip]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return tables


class CsvSink:
    """Long-format CSV (meter,timestamp,kwh,voltage,current,power_factor) of a few chosen meters."""

    def __init__(self, path: Path, timeline: Timeline, serials: set[str]) -> None:
        self.serials = serials
        self.handle = path.open("w", newline="")
        self.out = csv.writer(self.handle)
        self.out.writerow(["meter", "timestamp", "kwh", "voltage", "current", "power_factor"])
        tz = pd.to_datetime(timeline.epoch, unit="s", utc=True).tz_convert(timeline.timezone)
        self.stamps = [stamp.isoformat() for stamp in tz]

    def write(self, chunk: Chunk, rollups: Rollups | None) -> int:
        written = 0
        for row, serial in enumerate(chunk.serials):
            if serial not in self.serials:
                continue
            for t in np.nonzero(chunk.valid[row])[0]:
                self.out.writerow(
                    [
                        serial,
                        self.stamps[t],
                        f"{chunk.kwh[row, t]:.3f}",
                        f"{chunk.voltage[row, t]:.1f}",
                        f"{chunk.current[row, t]:.3f}",
                        f"{chunk.power_factor[row, t]:.3f}",
                    ]
                )
                written += 1
        return written

    def close(self) -> None:
        self.handle.close()


def local_day(timeline: Timeline, index: int) -> dt.date:
    return timeline.start_date + dt.timedelta(days=index)
