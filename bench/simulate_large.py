"""Benchmark: `simulate_campus --scale large` (1,000 rooms, a year of 15-minute readings) on PostgreSQL.

Usage (an empty database of your own; it is migrated first):
    createdb -h 127.0.0.1 -U postgres wattwatch_sim_large
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/wattwatch_sim_large .venv/bin/python bench/simulate_large.py
Prints wall time, readings written, rows per second and the command's peak memory (max RSS); --json for machines.
Target (issue 3): under 10 minutes and under 1 GB. `--scale university` (issue 29: 5,000 rooms, about
176 M readings, 37 GB with rollups and indexes; aim under 20 minutes) needs about 45 GB free.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# Issue 3 set the large campus's; issue 29 the university's (an aim, with no memory figure).
TARGETS = {"large": "under 600 s and under 1024 MB", "university": "under 1200 s"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, help="Shorter history for a quick try (default: the scale's year).")
    parser.add_argument("--scale", default="large", choices=["tiny", "demo", "large", "estate", "university"])
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("Set DATABASE_URL to an empty PostgreSQL database of your own.", file=sys.stderr)
        return 2
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [python, "manage.py", "simulate_campus", "--scale", args.scale, "--seed", str(args.seed)]
    if args.days:
        command += ["--days", str(args.days)]
    if args.json:
        command.append("--no-progress")
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True)
    wall = time.monotonic() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    found = re.search(r"readings: ([\d,]+)", done.stdout)
    readings = int(found.group(1).replace(",", "")) if found else 0
    result = {
        "scale": args.scale,
        "seed": args.seed,
        "wall_seconds": round(wall, 1),
        "readings": readings,
        "rows_per_second": round(readings / wall) if wall else 0,
        "peak_rss_mb": round(max(peak_kb, before) / 1024, 1),
        "target": TARGETS.get(args.scale, ""),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(done.stdout)
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
