"""File import on PostgreSQL against `psql \\copy` of the same rows into a table shaped like the readings table.

    .venv/bin/python bench/ingest_file.py [--rows 1290000] [--json] [--repeat 2] [--profile OUT.prof]
        [--server postgres://postgres@127.0.0.1:5432/postgres] [--database wattwatch_ingest_bench_file] [--keep]

Real data: the Cambridge hourly electricity readings (../shared/data/cambridge, 16 buildings,
2018-2019, 262,800 rows; CAMBRIDGE_DATA overrides the path). They are laid out as a long-format
CSV (meter,timestamp,kwh) for as many meters as --rows needs: copy k of building b105 is meter
`b105-k`, with the building's own readings. Creates (and drops) the database
wattwatch_ingest_bench_file, then in the same run, --repeat times, interleaved:
  1. `psql -c "\\copy ..."` of the same rows (meter ids instead of serials) from a CSV into a
     table created as `LIKE meters_reading INCLUDING ALL` (its columns, defaults, primary key,
     unique (meter, timestamp) constraint and every index) in the same run, and
  2. `manage.py import_readings PATH --json` in its own process (parsing, validation, upsert,
     quarantine, gap filling, rollups, all of it; the import's own `seconds` is what is compared).
Best of each is kept (the machine is shared). Prints rows/s of both and the ratio (import / copy);
with --profile the last import runs under cProfile and writes its stats there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, django_setup, drop_database, recreate_database

DB = "wattwatch_ingest_bench_file"
TARGET = "bench_copy_readings"
DATA = Path(os.environ.get("CAMBRIDGE_DATA", ROOT.parent / "shared" / "data" / "cambridge"))


def buildings() -> list[tuple[str, list[str]]]:
    """(building code, ["timestamp,kwh" lines]) for each building, its years in order."""
    found = []
    for folder in sorted((DATA / "electricity").glob("UCam_Building_*")):
        lines: list[str] = []
        for year in sorted(folder.glob("*.csv")):
            with year.open() as source:
                next(source)
                for line in source:
                    stamp, kwh = line.strip().split(",")
                    if kwh:
                        lines.append(f"{stamp.replace(' ', 'T')}Z,{kwh}")
        found.append((folder.name.removeprefix("UCam_Building_"), lines))
    if not found:
        raise SystemExit(f"no Cambridge data under {DATA} (set CAMBRIDGE_DATA)")
    return found


def create_meters(series: list[tuple[str, list[str]]], rows: int) -> list[tuple[int, str, list[str]]]:
    """Meters b105-1, b109-1, ..., b105-2, ... until they hold `rows` readings; (id, serial, lines)."""
    from meters.models import Hostel, Meter, Site

    site, _ = Site.objects.get_or_create(
        code="bench", defaults={"name": "Bench", "timezone": "Europe/London", "latitude": 52.2, "longitude": 0.1}
    )
    hostel, _ = Hostel.objects.get_or_create(site=site, code="BENCH", defaults={"name": "Bench hostel", "floors": 10})
    plan: list[tuple[str, list[str]]] = []
    left, copy = rows, 0
    while left > 0:
        copy += 1
        for code, lines in series:
            if left <= 0:
                break
            plan.append((f"{code}-{copy}", lines[:left]))
            left -= len(plan[-1][1])
    meters = Meter.objects.bulk_create(
        Meter(
            serial=serial,
            kind=Meter.Kind.FEEDER,
            hostel=hostel,
            interval_minutes=60,
            rated_kw=5000.0,
            installed_at=dt.datetime(2015, 1, 1, tzinfo=dt.UTC),
        )
        for serial, _ in plan
    )
    return [(meter.id, serial, lines) for meter, (serial, lines) in zip(meters, plan, strict=True)]


def write_files(path: Path, ids_path: Path, meters: list[tuple[int, str, list[str]]]) -> int:
    """The import's CSV (serials) and the same rows for \\copy (meter ids, empty optional values, quality 0)."""
    count = 0
    with path.open("w") as out, ids_path.open("w") as ids:
        out.write("meter,timestamp,kwh\n")
        for meter_id, serial, lines in meters:
            out.writelines(f"{serial},{line}\n" for line in lines)
            ids.writelines(f"{meter_id},{line},,,,0\n" for line in lines)
            count += len(lines)
    return count


def psql_copy(url: str, ids_path: Path) -> float:
    """Create the copy target like meters_reading with all its indexes, then time `psql \\copy` into it."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TARGET}")
        conn.execute(f"CREATE TABLE {TARGET} (LIKE meters_reading INCLUDING ALL)")
        conn.execute("CHECKPOINT")
    columns = "meter_id, timestamp, kwh, voltage, current, power_factor, quality"
    command = f"\\copy {TARGET} ({columns}) FROM '{ids_path}' WITH (FORMAT csv)"
    started = time.perf_counter()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", command], check=True)
    return time.perf_counter() - started


def _reset(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TARGET}")
        conn.execute("TRUNCATE meters_reading, meters_hourlyrollup, meters_dailyrollup, meters_quarantinedreading")
        conn.execute("CHECKPOINT")


def import_command(url: str, path: Path, profile: Path | None) -> tuple[dict[str, float], float, int]:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    python = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
    started = time.perf_counter()
    done = subprocess.run(
        [*python, "manage.py", "import_readings", str(path), "--json"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return summary, wall, peak_kb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_290_000)
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_SERVER", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=2, help="Runs of each; the best of each is reported.")
    parser.add_argument("--profile", type=Path, help="Run the last import under cProfile, stats to this file.")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database.")
    parser.add_argument("--database", default=DB, help="Name of the throwaway database (wattwatch_ingest_...).")
    args = parser.parse_args()

    url = recreate_database(args.server, args.database)
    try:
        django_setup(url)
        meters = create_meters(buildings(), args.rows)
        with tempfile.TemporaryDirectory() as tmp:
            path, ids_path = Path(tmp) / "readings.csv", Path(tmp) / "readings_ids.csv"
            rows = write_files(path, ids_path, meters)
            runs = []
            for run in range(args.repeat):
                # Interleaved, so both see the same load from whatever else runs on the machine.
                _reset(url)
                copy_seconds = psql_copy(url, ids_path)
                _reset(url)
                profile = args.profile if run == args.repeat - 1 else None
                summary, wall, peak_kb = import_command(url, path, profile)
                runs.append((copy_seconds, summary, wall))
            copy_seconds = min(run[0] for run in runs)
            summary, wall = min(((run[1], run[2]) for run in runs), key=lambda item: float(item[0]["seconds"]))
        assert int(summary["accepted"]) == rows, summary
        copy_rate = rows / copy_seconds
        import_rate = rows / float(summary["seconds"])
        report = {
            "rows": rows,
            "meters": len(meters),
            "repeat": args.repeat,
            "copy_rows_per_s": round(copy_rate),
            "import_rows_per_s": round(import_rate),
            "ratio": round(import_rate / copy_rate, 3),
            "copy_seconds": round(copy_seconds, 2),
            "import_seconds": summary["seconds"],
            "import_wall_seconds_with_startup": round(wall, 2),
            "rollup_seconds": summary["seconds_rollups"],
            "gap_check_seconds": summary["seconds_gaps"],
            "commit_seconds": summary.get("seconds_commit"),
            "peak_rss_mb": round(peak_kb / 1024, 1),
        }
    finally:
        if not args.keep:
            drop_database(args.server, args.database)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:34} {value}")


if __name__ == "__main__":
    main()
