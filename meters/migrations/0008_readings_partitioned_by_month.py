"""Readings partitioned by month on PostgreSQL (meters/partitions.py); SQLite keeps one table.

Converts an existing table in this migration's transaction: the readings table is locked until it
commits (how long per million rows: docs/readings-history.md). Django's model state is unchanged:
`id` stays the model's primary key field, the table's primary key becomes (id, timestamp).
"""

from typing import Any

from django.db import migrations


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from meters.partitions import readings_partitioned, readings_table_partition

    with schema_editor.connection.cursor() as cursor:
        if not readings_partitioned(cursor):
            readings_table_partition(cursor)


def unpartition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from meters.partitions import readings_partitioned, readings_table_unpartition

    with schema_editor.connection.cursor() as cursor:
        if readings_partitioned(cursor):
            readings_table_unpartition(cursor)


class Migration(migrations.Migration):
    dependencies = [("meters", "0007_site_opening_hours")]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
