"""Writing validated readings: one row per (meter, timestamp), changed values marked corrected.

PostgreSQL: rows for spans where nothing is stored yet are COPied (binary) straight into the table;
otherwise COPY into a temporary staging table, then one INSERT ... ON CONFLICT DO UPDATE that
touches only rows whose values differ; the staged keys already stored (read in the same statement,
so before it) tell updates from inserts. (`xmax = 0` in RETURNING would, but a partitioned table
cannot return system columns.)
SQLite (embedded and tests): read what is stored for the chunk to count, then executemany
with the same ON CONFLICT upsert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from meters.ingest.arrays import int_array
from meters.ingest.quarantine import quarantine_overflow, quarantine_room
from meters.ingest.types import Rejection
from meters.ingest.validate import text_safe
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
    copied: bool = False  # by COPY into a span where the meter had no reading (meters.ingest.hourly)


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


# PostgreSQL's binary COPY: a header, then per row a field count and each field as a length and
# big-endian bytes (length -1 for NULL), then a trailer. Built with NumPy as whole columns: Arrow's
# CSV writer spent 6 s formatting the timestamps of 1.29 M rows, and PostgreSQL then spent more
# parsing that text than it now spends on binary rows (bench/ingest_file.py).
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
_PG_EPOCH = 946_684_800  # 2000-01-01T00:00:00Z, PostgreSQL's zero for timestamps, in Unix seconds
COPY_COLUMNS = ("meter_id", "timestamp", *VALUE_COLUMNS, "quality")


def _layout(present: tuple[bool, ...]) -> np.dtype:
    """One row's bytes when the value columns that are present (not NULL) are `present`."""
    fields: list[tuple[str, str]] = [("count", ">i2"), ("meter_len", ">i4"), ("meter_id", ">i8")]
    fields += [("timestamp_len", ">i4"), ("timestamp", ">i8")]
    for name, here in zip(VALUE_COLUMNS, present, strict=True):
        fields.append((f"{name}_len", ">i4"))
        if here:
            fields.append((name, ">f8"))
    fields += [("quality_len", ">i4"), ("quality", ">i2")]
    return np.dtype(fields)


def copy_binary(rows: pd.DataFrame) -> bytes:
    """`rows` (meter_id, epoch, values, quality) as one binary COPY stream for COPY_COLUMNS.

    Values that are NaN are written as NULL. Rows with the same NULL pattern share one layout; the
    common case (one pattern) keeps the rows in their order.
    """
    values = {name: rows[name].to_numpy(dtype="float64") for name in VALUE_COLUMNS}
    present = np.column_stack([~np.isnan(values[name]) for name in VALUE_COLUMNS])
    meter_ids = rows["meter_id"].to_numpy(dtype="int64")
    micros = (rows["epoch"].to_numpy(dtype="int64") - _PG_EPOCH) * 1_000_000
    quality = rows["quality"].to_numpy(dtype="int16")
    # Each row's NULL pattern as one small integer (np.unique over boolean rows sorts slowly).
    codes = present.astype(np.int8) @ (1 << np.arange(len(VALUE_COLUMNS), dtype=np.int8))
    patterns = [int(codes[0])] if len(codes) and (codes == codes[0]).all() else np.unique(codes).tolist()
    parts = [_COPY_HEADER]
    for code in patterns:
        pick = codes == code if len(patterns) > 1 else slice(None)
        pattern = [bool(code >> bit & 1) for bit in range(len(VALUE_COLUMNS))]
        layout = _layout(tuple(pattern))
        block = np.empty(len(meter_ids[pick]), dtype=layout)
        block["count"] = len(COPY_COLUMNS)
        block["meter_len"], block["meter_id"] = 8, meter_ids[pick]
        block["timestamp_len"], block["timestamp"] = 8, micros[pick]
        for name, here in zip(VALUE_COLUMNS, pattern, strict=True):
            block[f"{name}_len"] = 8 if here else -1
            if here:
                block[name] = values[name][pick]
        block["quality_len"], block["quality"] = 2, quality[pick]
        parts.append(block.tobytes())
    parts.append(_COPY_TRAILER)
    return b"".join(parts)


def _copy(cursor: Any, table: str, data: bytes) -> None:
    """COPY on the raw psycopg cursor, its errors raised as Django's (a lost connection is a DatabaseError,
    which the import command reports as "nothing from this file was committed")."""
    columns = ", ".join(f'"{name}"' for name in COPY_COLUMNS)
    with (
        cursor.db.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT binary)") as copy,
    ):
        for start in range(0, len(data), 1 << 20):
            copy.write(data[start : start + (1 << 20)])


def _spans(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.groupby("meter_id")["epoch"].agg(["count", "min", "max"])


def _nothing_stored_in(cursor: Any, spans: pd.DataFrame) -> bool:
    cursor.execute(
        f"""
        SELECT NOT EXISTS (
            SELECT 1 FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS a(meter_id, s, e)
            CROSS JOIN LATERAL (  -- an index probe per meter, whatever the table's size (see rollups)
                SELECT 1 FROM {Reading._meta.db_table} r
                WHERE r.meter_id = a.meter_id AND r.timestamp BETWEEN to_timestamp(a.s) AND to_timestamp(a.e)
                LIMIT 1
            ) b
        )
        """,
        [int_array(spans.index.tolist()), int_array(spans["min"].tolist()), int_array(spans["max"].tolist())],
    )
    return bool(cursor.fetchone()[0])


def _upsert_postgresql(rows: pd.DataFrame) -> list[Written]:
    table = Reading._meta.db_table
    data = copy_binary(rows)
    spans = _spans(rows)
    with connection.cursor() as cursor:
        # New data (the common case: a meter's next readings, a first load) goes straight in by
        # COPY. The savepoint makes a clash with a concurrent writer fall back to the upsert.
        if _nothing_stored_in(cursor, spans):
            try:
                with transaction.atomic():
                    _copy(cursor, table, data)
            except IntegrityError:
                pass
            else:
                return [
                    Written(int(meter_id), int(count), 0, _utc(low), _utc(high), copied=True)
                    for meter_id, count, low, high in zip(
                        spans.index.tolist(),
                        spans["count"].tolist(),
                        spans["min"].tolist(),
                        spans["max"].tolist(),
                        strict=True,
                    )
                ]
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (meter_id bigint, timestamp timestamptz, kwh float8, "
            "voltage float8, current float8, power_factor float8, quality smallint) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGE}")
        _copy(cursor, STAGE, data)
        cursor.execute(
            f"""
            WITH written AS (
                INSERT INTO {table} AS r (meter_id, timestamp, kwh, voltage, current, power_factor, quality)
                SELECT meter_id, timestamp, kwh, voltage, current, power_factor, quality FROM {STAGE}
                ON CONFLICT (meter_id, timestamp) DO UPDATE SET
                    kwh = EXCLUDED.kwh, voltage = EXCLUDED.voltage, current = EXCLUDED.current,
                    power_factor = EXCLUDED.power_factor, quality = {_QUALITY_ON_UPDATE}
                WHERE (r.kwh, r.voltage, r.current, r.power_factor)
                      IS DISTINCT FROM (EXCLUDED.kwh, EXCLUDED.voltage, EXCLUDED.current, EXCLUDED.power_factor)
                RETURNING r.meter_id, r.timestamp
            ), stored AS (
                -- Every part of a WITH sees the table as it was before the statement: these were updates.
                SELECT r.meter_id, r.timestamp FROM {table} r JOIN {STAGE} s
                ON r.meter_id = s.meter_id AND r.timestamp = s.timestamp
            )
            SELECT w.meter_id, count(*) FILTER (WHERE s.meter_id IS NULL),
                   count(*) FILTER (WHERE s.meter_id IS NOT NULL), min(w.timestamp), max(w.timestamp)
            FROM written w LEFT JOIN stored s ON s.meter_id = w.meter_id AND s.timestamp = w.timestamp
            GROUP BY w.meter_id
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
            # ON CONFLICT: a row another writer added since we looked is upserted, not an error.
            cursor.executemany(
                f"INSERT INTO {table} AS r (meter_id, timestamp, kwh, voltage, current, power_factor, quality) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (meter_id, timestamp) DO UPDATE SET "
                "kwh = excluded.kwh, voltage = excluded.voltage, current = excluded.current, "
                f"power_factor = excluded.power_factor, quality = {_QUALITY_ON_UPDATE} "
                "WHERE r.kwh IS NOT excluded.kwh OR r.voltage IS NOT excluded.voltage "
                "OR r.current IS NOT excluded.current OR r.power_factor IS NOT excluded.power_factor",
                inserts,
            )
        if updates:
            cursor.executemany(
                f"UPDATE {table} SET kwh = %s, voltage = %s, current = %s, power_factor = %s, quality = %s "
                "WHERE meter_id = %s AND timestamp = %s",
                updates,
            )
    return [Written(m, s[0], s[1], _utc(s[2]), _utc(s[3])) for m, s in touched.items()]


QUARANTINE_COLUMNS = (
    "source",
    "row_number",
    "meter_serial",
    "meter_id",
    "sender_kind",
    "sender_gateway_id",
    "sender_user_id",
    "raw",
    "reason",
)


def quarantine_store(*, rejections: list[Rejection], source: str, sender: dict[str, object] | None = None) -> int:
    """Keep rejected rows with their reason so they can be fixed and re-processed.

    PostgreSQL: by COPY. Django's bulk_create sends each column as an array that psycopg escapes
    element by element with a regular expression: a gateway batch of 10,000 rejected rows cost
    833 ms of CPU, ten times a good batch of the same size; 293 ms by COPY (the rest is validation).
    """
    # What is kept, cut to the columns' sizes and with NULs replaced, whichever way it is written.
    # `sender` is Sender.fields(): who sent the rows, whose rights re-processing them will have.
    who = sender or {"sender_kind": "unknown", "sender_gateway_id": None, "sender_user_id": None}
    room = quarantine_room(sender=who)
    dropped = 0
    if room is not None and len(rejections) > room:
        dropped, rejections = len(rejections) - room, rejections[:room]
        quarantine_overflow(source=source, dropped=dropped)
    rows = [
        (
            source[:200],
            rejection.row,
            text_safe(rejection.meter_serial)[:64],
            rejection.meter_id,
            who["sender_kind"],
            who["sender_gateway_id"],
            who["sender_user_id"],
            rejection.raw,
            text_safe(rejection.stored_reason or rejection.reason)[:300],
        )
        for rejection in rejections
    ]
    if not rows:
        return dropped
    if connection.vendor != "postgresql":
        QuarantinedReading.objects.bulk_create(
            (QuarantinedReading(**dict(zip(QUARANTINE_COLUMNS, row, strict=True))) for row in rows), batch_size=1000
        )
        return dropped
    columns = ", ".join((*QUARANTINE_COLUMNS, "status", "received_at"))
    received, pending = timezone.now(), QuarantinedReading.Status.PENDING.value
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {QuarantinedReading._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for *head, raw, reason in rows:
            copy.write_row((*head, Jsonb(raw), reason, pending, received))
    return dropped
