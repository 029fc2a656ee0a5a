"""Writing validated readings: one row per (meter, timestamp), changed values marked corrected.

PostgreSQL: COPY into a temporary staging table, then one INSERT ... ON CONFLICT DO UPDATE
that touches only rows whose values differ; `xmax = 0` in RETURNING tells inserts from updates.
SQLite (embedded and tests): read what is stored for the chunk, then executemany.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection

from meters.ingest.types import Rejection
from meters.models import Quality, QuarantinedReading, Reading

VALUE_COLUMNS = ("kwh", "voltage", "current", "power_factor")
STAGE = "wattwatch_ingest_stage"


@dataclass(frozen=True)
class Written:
    """What one upsert did, per meter: inserted, updated and the span of timestamps written."""

    meter_id: int
    inserted: int
    updated: int
    first: dt.datetime
    last: dt.datetime


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)


def readings_upsert(*, rows: pd.DataFrame) -> list[Written]:
    """Insert new readings and update changed ones; `rows` has meter_id, epoch, values, quality."""
    if rows.empty:
        return []
    if connection.vendor == "postgresql":
        return _upsert_postgresql(rows)
    return _upsert_generic(rows)


_QUALITY_ON_UPDATE = (
    # A real value replacing an estimate is raw; anything else that changes is a correction.
    f"CASE WHEN r.quality = {Quality.ESTIMATED} AND EXCLUDED.quality = {Quality.RAW} THEN {Quality.RAW} "
    f"WHEN EXCLUDED.quality = {Quality.ESTIMATED} THEN {Quality.ESTIMATED} ELSE {Quality.CORRECTED} END"
)


def _upsert_postgresql(rows: pd.DataFrame) -> list[Written]:
    table = Reading._meta.db_table
    buffer = io.StringIO()
    rows[["meter_id", "epoch", *VALUE_COLUMNS, "quality"]].to_csv(
        buffer, sep="\t", header=False, index=False, na_rep="\\N"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (meter_id bigint, epoch bigint, kwh float8, voltage float8, "
            "current float8, power_factor float8, quality smallint) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGE}")
        raw = cursor.cursor  # the psycopg cursor, for COPY
        with raw.copy(f"COPY {STAGE} FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        cursor.execute(
            f"""
            WITH written AS (
                INSERT INTO {table} AS r (meter_id, timestamp, kwh, voltage, current, power_factor, quality)
                SELECT meter_id, to_timestamp(epoch), kwh, voltage, current, power_factor, quality FROM {STAGE}
                ON CONFLICT (meter_id, timestamp) DO UPDATE SET
                    kwh = EXCLUDED.kwh, voltage = EXCLUDED.voltage, current = EXCLUDED.current,
                    power_factor = EXCLUDED.power_factor, quality = {_QUALITY_ON_UPDATE}
                WHERE (r.kwh, r.voltage, r.current, r.power_factor)
                      IS DISTINCT FROM (EXCLUDED.kwh, EXCLUDED.voltage, EXCLUDED.current, EXCLUDED.power_factor)
                RETURNING r.meter_id, r.timestamp, (xmax = 0) AS inserted
            )
            SELECT meter_id, count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                   min(timestamp), max(timestamp)
            FROM written GROUP BY meter_id
            """
        )
        return [Written(int(m), int(i), int(u), first, last) for m, i, u, first, last in cursor.fetchall()]


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b


def _upsert_generic(rows: pd.DataFrame) -> list[Written]:
    table = Reading._meta.db_table
    stored: dict[tuple[int, int], tuple[tuple[object, ...], int]] = {}
    for _, part in rows.groupby("meter_id"):
        meter_id = int(part["meter_id"].iloc[0])
        low, high = _utc(part["epoch"].min()), _utc(part["epoch"].max())
        for mid, stamp, kwh, voltage, current, pf, quality in Reading.objects.filter(
            meter_id=meter_id,
            timestamp__gte=low,
            timestamp__lte=high,
        ).values_list("meter_id", "timestamp", *VALUE_COLUMNS, "quality"):
            stored[(mid, int(stamp.timestamp()))] = ((kwh, voltage, current, pf), quality)
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    touched: dict[int, list[int]] = {}
    clean = rows.astype(object).where(rows.notna(), None)
    for meter_id, epoch, kwh, voltage, current, pf, quality in clean[
        ["meter_id", "epoch", *VALUE_COLUMNS, "quality"]
    ].itertuples(index=False, name=None):
        key = (int(meter_id), int(epoch))
        values = (kwh, voltage, current, pf)
        stamp = _utc(epoch).strftime("%Y-%m-%d %H:%M:%S")
        if key not in stored:
            inserts.append((key[0], stamp, *values, int(quality)))
        else:
            old_values, old_quality = stored[key]
            if all(_same(a, b) for a, b in zip(old_values, values, strict=True)):
                continue
            if old_quality == Quality.ESTIMATED and quality == Quality.RAW:
                new_quality = Quality.RAW
            elif quality == Quality.ESTIMATED:
                new_quality = Quality.ESTIMATED
            else:
                new_quality = Quality.CORRECTED
            updates.append((*values, int(new_quality), key[0], stamp))
        stats = touched.setdefault(key[0], [0, 0, key[1], key[1]])
        stats[0 if key not in stored else 1] += 1
        stats[2], stats[3] = min(stats[2], key[1]), max(stats[3], key[1])
    with connection.cursor() as cursor:
        if inserts:
            cursor.executemany(
                f"INSERT INTO {table} (meter_id, timestamp, kwh, voltage, current, power_factor, quality) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                inserts,
            )
        if updates:
            cursor.executemany(
                f"UPDATE {table} SET kwh = %s, voltage = %s, current = %s, power_factor = %s, quality = %s "
                "WHERE meter_id = %s AND timestamp = %s",
                updates,
            )
    return [Written(m, s[0], s[1], _utc(s[2]), _utc(s[3])) for m, s in touched.items()]


def quarantine_store(*, rejections: list[Rejection], source: str) -> None:
    """Keep rejected rows with their reason so they can be fixed and re-processed."""
    QuarantinedReading.objects.bulk_create(
        (
            QuarantinedReading(
                source=source[:200],
                row_number=rejection.row,
                meter_serial=rejection.meter_serial[:64],
                meter_id=rejection.meter_id,
                raw=rejection.raw,
                reason=rejection.reason[:300],
            )
            for rejection in rejections
        ),
        batch_size=1000,
    )
