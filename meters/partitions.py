"""Readings partitioned by month (PostgreSQL declarative partitioning; SQLite stays one table).

`meters_reading` is `PARTITION BY RANGE (timestamp)`: one partition per UTC month, named
`meters_reading_pYYYY_MM`, and a default partition that catches any row whose month has no
partition yet (an import of old history, an archive brought back). `reading_partitions_ensure`
(a beat task, and the migration that converts the table) creates the months ahead and moves rows
out of the default partition into months of their own. The primary key is (id, timestamp), as
PostgreSQL requires the partition key in every unique constraint; Django keeps `id` as the pk
field, and ids stay unique because one sequence numbers every partition. The unique
(meter_id, timestamp) constraint holds per partition, which is all of it: a timestamp decides the
partition. Why and how long the conversion takes: docs/readings-history.md.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

TABLE = "meters_reading"
DEFAULT_PARTITION = f"{TABLE}_default"
_NAME = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")
# Ids handed out per session at a time by the sequences of bulk-written tables (readings, rollups):
# with CACHE 1 a COPY locks the sequence for every row (docs/decisions/0006-cached-id-sequences.md).
ID_CACHE = 1000


@dataclass(frozen=True)
class Partition:
    """One month of readings: its table and its [start, end) in UTC."""

    name: str
    start: dt.datetime
    end: dt.datetime


def month_start(moment: dt.datetime | dt.date) -> dt.datetime:
    """The first instant (UTC) of the month holding `moment`."""
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return dt.datetime(moment.year, moment.month, 1, tzinfo=dt.UTC)


def month_after(start: dt.datetime) -> dt.datetime:
    return dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=dt.UTC)


def partition_for(start: dt.datetime) -> Partition:
    start = month_start(start)
    return Partition(name=f"{TABLE}_p{start:%Y_%m}", start=start, end=month_after(start))


def readings_partitioned(cursor: Any | None = None) -> bool:
    """Whether the readings table is partitioned here (PostgreSQL after the conversion)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() if cursor is None else nullcontext(cursor) as cur:
        cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cur.fetchone()
    return bool(row and row[0] == "p")


def reading_partitions(cursor: Any | None = None) -> list[Partition]:
    """The monthly partitions that exist, oldest first (the default partition is not listed)."""
    with connection.cursor() if cursor is None else nullcontext(cursor) as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        names = [row[0] for row in cur.fetchall()]
    months = []
    for name in names:
        match = _NAME.match(name)
        if match:
            months.append(partition_for(dt.datetime(int(match[1]), int(match[2]), 1, tzinfo=dt.UTC)))
    return sorted(months, key=lambda item: item.start)


def _default_months(cur: Any) -> list[dt.datetime]:
    cur.execute(f"SELECT DISTINCT date_trunc('month', timestamp AT TIME ZONE 'UTC') FROM {DEFAULT_PARTITION}")
    return sorted(row[0].replace(tzinfo=dt.UTC) for row in cur.fetchall())


def partition_create(cur: Any, start: dt.datetime) -> tuple[str, int]:
    """Create one month's partition, moving its rows out of the default partition; (name, rows moved).

    The table is filled before it is attached: with a CHECK constraint matching its bounds, ATTACH
    does not scan it, and the default partition is locked so no row of the month lands there
    between the move and the attach (inserts into other months are not blocked).
    """
    part = partition_for(start)
    low, high = part.start.isoformat(), part.end.isoformat()
    cur.execute(f"LOCK TABLE {DEFAULT_PARTITION} IN SHARE ROW EXCLUSIVE MODE")
    cur.execute(f"CREATE TABLE {part.name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cur.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE timestamp >= %s AND timestamp < %s RETURNING *) "
        f"INSERT INTO {part.name} SELECT * FROM moved",
        [low, high],
    )
    moved = cur.rowcount
    cur.execute(
        f"ALTER TABLE {part.name} ADD CONSTRAINT {part.name}_bounds "
        f"CHECK (timestamp IS NOT NULL AND timestamp >= '{low}' AND timestamp < '{high}')"
    )
    cur.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {part.name} FOR VALUES FROM ('{low}') TO ('{high}')")
    cur.execute(f"ALTER TABLE {part.name} DROP CONSTRAINT {part.name}_bounds")
    return part.name, max(moved, 0)


def reading_partitions_ensure(*, now: dt.datetime | None = None, months_ahead: int | None = None) -> dict[str, Any]:
    """Create the partitions of this month and the next `months_ahead`, and of every month that has
    rows in the default partition (moving them). Idempotent: existing months are left alone."""
    if not readings_partitioned():
        return {"partitioned": False, "created": [], "moved": 0}
    ahead = settings.READINGS_PARTITIONS_AHEAD_MONTHS if months_ahead is None else months_ahead
    first = month_start(now or timezone.now())
    wanted = [first]
    for _ in range(ahead):
        wanted.append(month_after(wanted[-1]))
    created: list[str] = []
    moved = 0
    with connection.cursor() as cur:
        existing = {part.start for part in reading_partitions(cur)}
        for start in sorted(set(wanted) | set(_default_months(cur))):
            if start in existing:
                continue
            # One transaction per month: a long move never holds the locks of the others.
            with transaction.atomic():
                name, rows = partition_create(cur, start)
            created.append(name)
            moved += rows
    return {"partitioned": True, "created": created, "moved": moved}


def reading_partition_drop(cur: Any, part: Partition) -> None:
    """Drop a whole month (its rows are archived first by the caller)."""
    cur.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {part.name}")
    cur.execute(f"DROP TABLE {part.name}")


def partition_of(cur: Any, *, meter_id: int, timestamp: dt.datetime) -> str | None:
    """Which table holds a reading (tests and operators: `tableoid` of the row)."""
    cur.execute(
        f"SELECT tableoid::regclass::text FROM {TABLE} WHERE meter_id = %s AND timestamp = %s",
        [meter_id, timestamp],
    )
    row = cur.fetchone()
    return str(row[0]) if row else None


def _constraints_and_indexes(cur: Any, table: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(name, type, definition) of the primary key and unique constraints, and (name, CREATE INDEX)
    of the other indexes, read before the table is renamed (the definitions name `table`)."""
    cur.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u') ORDER BY conname",
        [table],
    )
    constraints = [(str(name), str(kind), str(definition)) for name, kind, definition in cur.fetchall()]
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = to_regclass(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
        [table],
    )
    return constraints, [(str(name), str(definition)) for name, definition in cur.fetchall()]


def id_sequence_cache(cur: Any, table: str, size: int) -> None:
    """Set how many ids the sequence behind `table`.id hands a session at a time (serial or identity)."""
    cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cur.fetchone()[0]
    if sequence is None:
        raise RuntimeError(f"{table}.id has no sequence")
    cur.execute(f"ALTER SEQUENCE {sequence} CACHE {int(size)}")


def readings_table_partition(cur: Any, *, now: dt.datetime | None = None, months_ahead: int = 3) -> int:
    """Convert an unpartitioned readings table into a partitioned one, in the caller's transaction;
    returns the rows copied. The old table is emptied into monthly partitions and dropped; the
    constraints and indexes are built once the rows are in (faster than row by row)."""
    constraints, indexes = _constraints_and_indexes(cur, TABLE)
    old = f"{TABLE}_unpartitioned"
    cur.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    for name, _kind, _definition in constraints:
        cur.execute(f"ALTER TABLE {old} DROP CONSTRAINT {name}")
    for name, _definition in indexes:
        cur.execute(f"DROP INDEX {name}")
    cur.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING CONSTRAINTS) PARTITION BY RANGE (timestamp)")
    cur.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT")
    cur.execute(f"SELECT min(timestamp), max(timestamp), coalesce(max(id), 0) FROM {old}")
    low, high, last_id = cur.fetchone()
    start = month_start(low if low is not None else (now or timezone.now()))
    end = month_start(now or timezone.now())
    for _ in range(months_ahead):
        end = month_after(end)
    if high is not None:
        end = max(end, month_start(high))
    while start <= end:
        part = partition_for(start)
        cur.execute(
            f"CREATE TABLE {part.name} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{part.start.isoformat()}') TO ('{part.end.isoformat()}')"
        )
        start = part.end
    cur.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")
    copied = max(cur.rowcount, 0)
    for name, kind, definition in constraints:
        if kind == "p":
            definition = "PRIMARY KEY (id, timestamp)"
        elif "timestamp" not in definition:
            raise RuntimeError(f"{name} ({definition}) cannot hold on a table partitioned by timestamp")
        cur.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
    for _name, definition in indexes:
        cur.execute(definition)
    cur.execute(f"DROP TABLE {old}")  # and with it the identity sequence of its id
    # One sequence numbers every partition (an identity column cannot be declared on a partitioned
    # table before PostgreSQL 17); pg_get_serial_sequence still finds it, for Django's resets.
    cur.execute(f"CREATE SEQUENCE {TABLE}_id_seq CACHE {ID_CACHE} OWNED BY {TABLE}.id")
    cur.execute(f"SELECT setval('{TABLE}_id_seq', %s, %s)", [max(int(last_id), 1), bool(last_id)])
    cur.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
    cur.execute(f"ANALYZE {TABLE}")
    return copied


def readings_table_unpartition(cur: Any) -> int:
    """The reverse: one plain table again, with an identity id and a primary key on id alone."""
    constraints, indexes = _constraints_and_indexes(cur, TABLE)
    old = f"{TABLE}_partitioned"
    cur.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    for name, _kind, _definition in constraints:
        cur.execute(f"ALTER TABLE {old} DROP CONSTRAINT {name}")
    for name, _definition in indexes:
        cur.execute(f"DROP INDEX {name}")
    cur.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING CONSTRAINTS)")
    cur.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")
    copied = max(cur.rowcount, 0)
    cur.execute(f"SELECT coalesce(max(id), 0) FROM {TABLE}")
    last_id = int(cur.fetchone()[0])
    cur.execute(f"DROP TABLE {old} CASCADE")  # its partitions and sequence
    cur.execute(
        f"ALTER TABLE {TABLE} ALTER COLUMN id "
        f"ADD GENERATED BY DEFAULT AS IDENTITY (START WITH {last_id + 1} CACHE {ID_CACHE})"
    )
    for name, kind, definition in constraints:
        cur.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {'PRIMARY KEY (id)' if kind == 'p' else definition}")
    for _name, definition in indexes:
        cur.execute(definition)
    return copied
