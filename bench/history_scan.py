"""The first run's history scan, scored: simulate the demo campus, train its baseline as `make run` does,
and score the scan of its history against the simulator's incidents, judged by the current baseline
alone (`--no-eras`, as before history eras) and with era baselines (as the scan does now).

    DEBUG=1 .venv/bin/python bench/history_scan.py --seed 1
    DEBUG=1 .venv/bin/python bench/history_scan.py --seed 7 --start 2026-02-01 --database-url sqlite:////tmp/h.sqlite3

Each run is a fresh scratch database (SQLite under --workdir unless --database-url names one) and its own
subprocesses. Progress lines first, then ONE JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("precision", "recall", "f1", "true_alarms", "false_alarms", "incidents", "false_alarms_by_kind", "per_era")


def _manage(args: list[str], *, env: dict[str, str], log: Path) -> str:
    with log.open("a") as handle:
        handle.write(f"$ manage.py {' '.join(args)}\n")
        handle.flush()
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=handle
        )
        handle.write(done.stdout.decode())
    if done.returncode:
        raise SystemExit(f"manage.py {args[0]} failed (exit {done.returncode}); see {log}")
    return done.stdout.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="Simulator seed (the demo's is 1).")
    parser.add_argument("--start", help="First day of the history (default: 120 days ending now, as the demo).")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/history_scan_bench"))
    parser.add_argument("--database-url", help="A scratch database to use instead of a SQLite file (recreated).")
    parser.add_argument("--reuse", action="store_true", help="Score the database as it is (already simulated).")
    options = parser.parse_args()
    options.workdir.mkdir(parents=True, exist_ok=True)
    path = options.workdir / f"seed{options.seed}-{options.start or 'now'}.sqlite3"
    url = options.database_url or f"sqlite:///{path}"
    env = dict(os.environ, DATABASE_URL=url, DB_CONN_MAX_AGE="0", ML_MODELS_DIR=str(options.workdir / "models"))
    env.pop("REDIS_URL", None)
    log = options.workdir / f"seed{options.seed}.log"
    began = time.perf_counter()
    if not options.reuse:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        _manage(["migrate", "-v0"], env=env, log=log)
        simulate = ["simulate_campus", "--scale", "demo", "--seed", str(options.seed), "--no-progress"]
        _manage(simulate + (["--start", options.start] if options.start else []), env=env, log=log)
        _manage(["train_baseline"], env=env, log=log)
        print(f"simulated and trained in {time.perf_counter() - began:.0f} s", flush=True)
    result: dict[str, Any] = {"seed": options.seed, "start": options.start}
    for name, args in (("current_baseline_only", ["--no-eras"]), ("era_baselines", [])):
        step = time.perf_counter()
        output = json.loads(_manage(["evaluate_history_scan", *args], env=env, log=log).strip().splitlines()[-1])
        result[name] = {key: output[key] for key in KEYS} | {"seconds": round(time.perf_counter() - step, 1)}
        result["window"] = output["window"]
        print(
            f"{name}: precision {output['precision']:.3f} recall {output['recall']:.3f} F1 {output['f1']:.3f} "
            f"({output['false_alarms']} false of {output['true_alarms'] + output['false_alarms']}) "
            f"in {time.perf_counter() - step:.0f} s",
            flush=True,
        )
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
