"""How long `archive_readings` takes for one whole month of readings on PostgreSQL.

    .venv/bin/python bench/archive_month.py [--rows 3000000] [--meters 1010] [--repeat 1] [--json]
        [--profile OUT.prof] [--server postgres://postgres@127.0.0.1:5432/postgres]
        [--database wattwatch_ingest_bench_archive] [--keep]

Creates (and drops) the database, migrated, with --meters room meters at 15 minutes, and fills
January 2025 with --rows readings by SQL (kWh, voltage and power factor from random(), quality
raw), in its own monthly partition. Then, --repeat times (the month is refilled between runs),
runs the service behind `archive_readings --before 2025-02-01` into a temporary directory and
times it: the whole run, and its steps (COPY out of PostgreSQL, building the Arrow tables,
writing Parquet, the partition drop). Checks that every row was archived and the partition
dropped. Prints the best run (the machine is shared), as JSON with --json.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import create_meters, django_setup, drop_database, recreate_database

DB = "wattwatch_ingest_bench_archive"


def fill(meter_ids: list[int], rows: int) -> int:
    """`rows` readings of January 2025 (15 minutes), spread over the meters; returns the count."""
    from django.db import connection

    from meters.partitions import reading_partitions_ensure

    per_meter = max(1, min(31 * 96, -(-rows // len(meter_ids))))
    meters = -(-rows // per_meter)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO meters_reading (meter_id, timestamp, kwh, voltage, current, power_factor, quality)
            SELECT m.id, timestamp '2025-01-01 00:00:00+00' + k * interval '15 minutes',
                   round((random() * 0.5)::numeric, 3)::float8, 225 + random() * 10, NULL,
                   0.9 + random() * 0.1, 0
            FROM unnest(%s::bigint[]) AS m(id), generate_series(0, %s - 1) AS k
            """,
            [meter_ids[:meters], per_meter],
        )
        extra = min(len(meter_ids), meters) * per_meter - rows
        if extra > 0:  # the last meter's last readings, to make exactly --rows
            cursor.execute(
                "DELETE FROM meters_reading WHERE (meter_id, timestamp) IN ("
                "SELECT meter_id, timestamp FROM meters_reading ORDER BY meter_id DESC, timestamp DESC LIMIT %s)",
                [extra],
            )
    reading_partitions_ensure()  # January 2025 out of the default partition into its own
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE meters_reading")
        cursor.execute("CHECKPOINT")
        cursor.execute("SELECT count(*) FROM meters_reading_p2025_01")
        return int(cursor.fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--meters", type=int, default=1010)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default=DB, help="Name of the throwaway database (wattwatch_ingest_...).")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", type=Path, help="Run the last archive under cProfile, stats to this file.")
    parser.add_argument("--keep", action="store_true", help="Leave the database behind.")
    args = parser.parse_args()

    import datetime as dt

    url = recreate_database(args.server, args.database)
    runs = []
    try:
        django_setup(url)
        from meters.archive import readings_archive

        meter_ids = [meter_id for meter_id, _ in create_meters(args.meters)]
        for run in range(args.repeat):
            stored = fill(meter_ids, args.rows)
            with tempfile.TemporaryDirectory() as directory:
                profiler = cProfile.Profile() if args.profile and run == args.repeat - 1 else None
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                result = readings_archive(before=dt.datetime(2025, 2, 1, tzinfo=dt.UTC), to=Path(directory))
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                seconds = time.perf_counter() - started
                size = sum(Path(name).stat().st_size for name in result.files)
            assert result.archived == stored, (result.archived, stored)
            assert result.partitions_dropped == ["meters_reading_p2025_01"], result.partitions_dropped
            runs.append((seconds, result, size))
        seconds, result, size = min(runs, key=lambda item: item[0])
        report = {
            "rows": result.archived,
            "meters": args.meters,
            "repeat": args.repeat,
            "seconds": round(seconds, 2),
            "rows_per_s": round(result.archived / seconds),
            "seconds_per_3m_rows": round(seconds * 3_000_000 / result.archived, 1),
            **{f"seconds_{step}": round(value, 2) for step, value in result.steps.items()},
            "files": len(result.files),
            "parquet_mb": round(size / 1e6, 1),
            "all_runs_seconds": [round(run[0], 2) for run in runs],
        }
    finally:
        if not args.keep:
            drop_database(args.server, args.database)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
