"""File import on PostgreSQL against a plain COPY of the same rows into the same indexed table.

    .venv/bin/python bench/ingest_file.py --rows 1000000 [--meters 500] [--json]
        [--server postgres://postgres@127.0.0.1:5432/postgres]

Creates (and drops) the database wattwatch_ingest_bench_file, generates N readings as a CSV in
long format, then in the same run:
  1. raw COPY of the same rows (meter ids instead of serials) into meters_reading itself, with
     its indexes, unique constraint and foreign key, then TRUNCATE, and
  2. `manage.py import_readings PATH --json` in its own process (validation, upsert, gaps,
     rollups, all of it), measuring that process's peak RSS.
Each is run --repeat times, interleaved, and the best of each is kept (the machine is shared).
Prints rows/s of both, the ratio, peak RSS, and the share of ingest time spent on rollups.
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
from _common import ROOT, create_meters, django_setup, drop_database, recreate_database

DB = "wattwatch_ingest_bench_file"
START = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)


def generate(path: Path, ids_path: Path, meters: list[tuple[int, str]], rows: int) -> None:
    """Long-format CSV for the import, and the same rows with meter ids for raw COPY."""
    import numpy as np

    per_meter = -(-rows // len(meters))
    rng = np.random.default_rng(7)
    written = 0
    with path.open("w") as out, ids_path.open("w") as ids:
        out.write("meter,timestamp,kwh,voltage,current,power_factor\n")
        for meter_id, serial in meters:
            count = min(per_meter, rows - written)
            if count <= 0:
                break
            kwh = np.round(rng.gamma(2.0, 0.08, count), 4)
            volts = np.round(rng.normal(230, 3, count), 1)
            amps = np.round(kwh * 4 / 0.23, 2)
            pf = np.round(rng.uniform(0.85, 0.99, count), 3)
            lines, id_lines = [], []
            for k in range(count):
                stamp = (START + dt.timedelta(minutes=15 * k)).strftime("%Y-%m-%dT%H:%M:%SZ")
                lines.append(f"{serial},{stamp},{kwh[k]},{volts[k]},{amps[k]},{pf[k]}\n")
                id_lines.append(f"{meter_id},{stamp},{kwh[k]},{volts[k]},{amps[k]},{pf[k]},0\n")
            out.writelines(lines)
            ids.writelines(id_lines)
            written += count


def raw_copy(url: str, ids_path: Path) -> float:
    """COPY into meters_reading itself (its indexes, unique constraint and deferred foreign key), commit."""
    import psycopg

    columns = "meter_id, timestamp, kwh, voltage, current, power_factor, quality"
    sql = f"COPY meters_reading ({columns}) FROM STDIN (FORMAT csv)"
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(sql) as copy, ids_path.open("rb") as source:
            while block := source.read(1 << 20):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
    return seconds


def _truncate(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE meters_reading, meters_hourlyrollup, meters_dailyrollup")
        conn.execute("CHECKPOINT")


def import_command(url: str, path: Path) -> tuple[dict[str, float], float, int]:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "import_readings", str(path), "--json"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return summary, wall, max(peak_kb, before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--meters", type=int, default=500)
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_SERVER", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=2, help="Runs of each; the best of each is reported.")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database.")
    args = parser.parse_args()

    url = recreate_database(args.server, DB)
    try:
        django_setup(url)
        meters = create_meters(args.meters)
        with tempfile.TemporaryDirectory() as tmp:
            path, ids_path = Path(tmp) / "readings.csv", Path(tmp) / "readings_ids.csv"
            generate(path, ids_path, meters, args.rows)
            runs = []
            for _ in range(args.repeat):
                # Interleaved, so both see the same load from whatever else runs on the machine.
                _truncate(url)
                copy_seconds = raw_copy(url, ids_path)
                _truncate(url)
                summary, wall, peak_kb = import_command(url, path)
                runs.append((copy_seconds, summary, wall))
            copy_seconds = min(run[0] for run in runs)
            summary, wall = min(((run[1], run[2]) for run in runs), key=lambda item: float(item[0]["seconds"]))
        accepted = int(summary["accepted"])
        assert accepted == args.rows, summary
        copy_rate = args.rows / copy_seconds
        import_rate = args.rows / float(summary["seconds"])
        report = {
            "rows": args.rows,
            "repeat": args.repeat,
            "meters": args.meters,
            "copy_rows_per_s": round(copy_rate),
            "import_rows_per_s": round(import_rate),
            "ratio": round(import_rate / copy_rate, 3),
            "import_seconds": summary["seconds"],
            "import_wall_seconds_with_startup": round(wall, 2),
            "rollup_seconds": summary["seconds_rollups"],
            "gap_check_seconds": summary["seconds_gaps"],
            "rollup_share": round(float(summary["seconds_rollups"]) / float(summary["seconds"]), 3),
            "peak_rss_mb": round(peak_kb / 1024, 1),
        }
    finally:
        if not args.keep:
            drop_database(args.server, DB)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:34} {value}")


if __name__ == "__main__":
    main()
