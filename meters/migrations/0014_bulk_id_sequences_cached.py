"""PostgreSQL: the id sequences of readings and rollups hand out 1,000 numbers at a time per session.

With the default (CACHE 1) every row a COPY writes calls nextval on the shared sequence, which locks
it and writes WAL every 32 numbers: 2.7-3.5 s of a 9.4-12.3 s COPY of 1.29 M hourly rollups
(docs/decisions/0006-cached-id-sequences.md). Nothing orders or pages these tables by id, so the gaps
and the out-of-order ids that a per-session cache gives are harmless. SQLite has no sequences.
"""

from typing import Any

from django.db import migrations

TABLES = ("meters_reading", "meters_hourlyrollup", "meters_dailyrollup", "meters_hostelhourlyrollup")


def _cache(schema_editor: Any, size: int) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from meters.partitions import id_sequence_cache

    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            id_sequence_cache(cursor, table, size)


def cached(apps: Any, schema_editor: Any) -> None:
    from meters.partitions import ID_CACHE

    _cache(schema_editor, ID_CACHE)


def uncached(apps: Any, schema_editor: Any) -> None:
    _cache(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("meters", "0013_hostel_hourly_rollup")]

    operations = [migrations.RunPython(cached, uncached, elidable=False)]
