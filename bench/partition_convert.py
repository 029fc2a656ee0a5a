"""How long the migration that partitions readings by month takes, per million rows; and one month's archive.

    .venv/bin/python bench/partition_convert.py --rows 1000000 [--meters 500] [--json]
        [--server postgres://postgres@127.0.0.1:5432/postgres]

Creates (and drops) the database wattwatch_ingest_bench_partition, migrated, then meters
migrated back to before the conversion (0007: one plain readings table with its indexes), fills it with N
readings at 15 minutes of --meters meters by SQL, then times meters.partitions.readings_table_partition,
the function the migration runs, in one transaction as the migration does. Then archives the oldest
whole month with archive_readings's service (Parquet files in a temporary directory, the partition
dropped) and times that too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, create_meters, database_url, django_setup, drop_database

DB = "wattwatch_ingest_bench_partition"
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--meters", type=int, default=500)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="Leave the database behind.")
    args = parser.parse_args()
    import psycopg

    url = database_url(args.server, DB)
    drop_database(args.server, DB)
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DB}"')
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    # Everything, then meters back to before the conversion (its reverse makes the plain table again).
    for target in ([], ["meters", "0007_site_opening_hours"]):
        subprocess.run([sys.executable, "manage.py", "migrate", *target, "-v0"], cwd=ROOT, env=env, check=True)
    django_setup(url)
    from django.db import connection, transaction

    from meters.archive import readings_archive
    from meters.partitions import month_after, reading_partitions, readings_partitioned, readings_table_partition

    meters = create_meters(args.meters)
    per_meter = -(-args.rows // len(meters))
    ids = [meter_id for meter_id, _serial in meters]
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO meters_reading (meter_id, timestamp, kwh, voltage, current, power_factor, quality) "
            "SELECT m, %s::timestamptz + make_interval(mins => 15 * k), 0.1 + random() * 0.4, 229 + random() * 4, "
            "NULL, 0.95, 0 FROM unnest(%s::bigint[]) AS m, generate_series(0, %s - 1) AS k LIMIT %s",
            [START, ids, per_meter, args.rows],
        )
        rows = cur.rowcount
        cur.execute("ANALYZE meters_reading")
        cur.execute("SELECT pg_total_relation_size('meters_reading')")
        size_before = int(cur.fetchone()[0])
    fill_seconds = time.perf_counter() - started
    assert not readings_partitioned()

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        copied = readings_table_partition(cur, now=dt.datetime.now(dt.UTC))
    convert_seconds = time.perf_counter() - started
    assert copied == rows
    with connection.cursor() as cur:
        months = reading_partitions(cur)
        cur.execute(f"SELECT count(*) FROM meters_reading_p{START:%Y_%m}")
        first_month_rows = int(cur.fetchone()[0])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        result = readings_archive(before=month_after(START), to=Path(directory))
        archive_bytes = sum(Path(name).stat().st_size for name in result.files)
    archive_seconds = time.perf_counter() - started
    out = {
        "rows": rows,
        "meters": len(meters),
        "table_mb_before": round(size_before / 1e6, 1),
        "fill_seconds": round(fill_seconds, 1),
        "convert_seconds": round(convert_seconds, 1),
        "convert_seconds_per_million_rows": round(convert_seconds / (rows / 1e6), 1),
        "partitions": len(months),
        "archive_month_rows": result.archived,
        "archive_month_seconds": round(archive_seconds, 1),
        "archive_rows_per_second": round(result.archived / archive_seconds) if archive_seconds else None,
        "archive_parquet_mb": round(archive_bytes / 1e6, 2),
        "partition_dropped": result.partitions_dropped,
    }
    assert result.archived == first_month_rows
    connection.close()
    if not args.keep:
        drop_database(args.server, DB)
    print(json.dumps(out) if args.json else "\n".join(f"{key}: {value}" for key, value in out.items()))


if __name__ == "__main__":
    main()
