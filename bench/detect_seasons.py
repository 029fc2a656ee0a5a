"""Detection in every season: simulate a fresh demo campus per (seed, season), score it, one JSON report.

For each seed and each season the demo history (120 days) is placed so that its detection half (the
walk-forward second half `evaluate_detector --simulated` scores) ends on the season's date: winter
onset (early December: heating starts), early summer (mid June: cooling starts), autumn (mid
October: the weather in between). `now` is the default demo (history ending now). Each run is a
fresh scratch database and its own subprocesses (migrate, simulate_campus, evaluate_detector), so
runs are independent; at most two run at once.

    DEBUG=1 .venv/bin/python bench/detect_seasons.py --seeds 101 202 303
    DEBUG=1 .venv/bin/python bench/detect_seasons.py --seeds 101 202 303 --one-season-per-seed --jobs 2
    DEBUG=1 .venv/bin/python bench/detect_seasons.py --seeds 1 --seasons now
    DEBUG=1 .venv/bin/python bench/detect_seasons.py --seeds 101 \\
        --database-url-template postgresql://postgres@127.0.0.1:5432/wattwatch_seasons_{seed}_{season}

Progress lines first, then ONE JSON object as the last line: the runs and a summary (worst precision,
worst F1, mean F1, and the smallest margin of each over the plain Isolation Forest).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DAYS = 120  # the demo scale's history
# Month and day on which each season's detection window ends.
SEASONS: dict[str, tuple[int, int] | None] = {
    "winter-onset": (12, 5),
    "early-summer": (6, 15),
    "autumn": (10, 15),
    "now": None,  # the default demo: history ending now
}
DEFAULT_SEASONS = ("winter-onset", "early-summer", "autumn")
TARGETS = {"worst_precision": 0.90, "worst_f1": 0.90, "mean_f1": 0.93, "margin": 0.15}
_print_lock = threading.Lock()


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def history_start(season: str, year: int) -> dt.date | None:
    """First day of a history whose last day (and so its detection window) ends on the season's date."""
    when = SEASONS[season]
    if when is None:
        return None
    return dt.date(year, *when) - dt.timedelta(days=DAYS)


def _postgres_recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name == "wattwatch":
        raise SystemExit(f"refusing to recreate database {name!r}: use a scratch name")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _database_url(template: str | None, workdir: Path, seed: int, season: str) -> str:
    if template is None:
        path = workdir / f"seed{seed}-{season}.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    url = template.format(seed=seed, season=season.replace("-", "_"))
    if url.startswith(("postgres://", "postgresql://")):
        _postgres_recreate(url)
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    return url


def _manage(args: list[str], *, env: dict[str, str], log: Path) -> str:
    with log.open("a") as handle:
        handle.write(f"$ manage.py {' '.join(args)}\n")
        handle.flush()
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=handle,
            text=True,
            check=False,
        )
        handle.write(done.stdout)
    if done.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed (exit {done.returncode}); see {log}")
    return done.stdout


def _count(detail: list[dict[str, Any]], key: str) -> dict[str, int]:
    """False alarms counted by one of their traits; `week` is the week of the detection window they start in."""
    counts: dict[str, int] = {}
    for alarm in detail:
        value = str(int(alarm["day"] // 7)) if key == "week" else str(alarm.get(key, ""))
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def run_one(*, seed: int, season: str, year: int, template: str | None, workdir: Path) -> dict[str, Any]:
    """Simulate one campus into a fresh database and score the detector on it."""
    label = f"[seed {seed} {season}]"
    start = history_start(season, year)
    env = dict(
        os.environ,
        DATABASE_URL=_database_url(template, workdir, seed, season),
        DB_CONN_MAX_AGE="0",
        ML_MODELS_DIR=str(workdir / "models"),  # scratch runs never write into the checkout's ml_models/
    )
    log = workdir / f"seed{seed}-{season}.log"
    log.unlink(missing_ok=True)
    began = time.perf_counter()
    _manage(["migrate", "-v0"], env=env, log=log)
    say(f"{label} simulating the demo campus from {start or 'the default start (history ending now)'}")
    simulate = ["simulate_campus", "--scale", "demo", "--seed", str(seed), "--no-progress"]
    _manage(simulate + (["--start", start.isoformat()] if start else []), env=env, log=log)
    say(f"{label} simulated in {time.perf_counter() - began:.0f} s; evaluating (walk-forward, weekly retrain)")
    output = _manage(["evaluate_detector", "--simulated", "--json"], env=env, log=log)
    result = json.loads(output.strip().splitlines()[-1])
    run = {
        "seed": seed,
        "season": season,
        "start": start.isoformat() if start else None,
        "detect_window": result["detect_window"],
        "precision": result["precision"],
        "recall": result["recall"],
        "f1": result["f1"],
        "baseline_precision": result["baseline_precision"],
        "baseline_f1": result["baseline_f1"],
        "recall_by_kind": result.get("recall_by_kind", {}),
        "true_alarms": result["true_alarms"],
        "false_alarms": result["false_alarms"],
        "false_alarms_by_kind": result.get("false_alarms_by_kind", {}),
        "false_alarms_by_meter_kind": _count(result.get("false_alarms_detail", []), "meter_kind"),
        "false_alarms_by_week": _count(result.get("false_alarms_detail", []), "week"),
        "false_alarms_detail": result.get("false_alarms_detail", []),
        "missed_detail": result.get("missed_detail", []),
        "seconds": round(time.perf_counter() - began, 1),
    }
    say(
        f"{label} precision {run['precision']:.3f} recall {run['recall']:.3f} F1 {run['f1']:.3f} "
        f"(Isolation Forest P {run['baseline_precision']:.3f} F1 {run['baseline_f1']:.3f}); "
        f"false alarms {run['false_alarms_by_kind']} by meter {run['false_alarms_by_meter_kind']} "
        f"by week {run['false_alarms_by_week']} in {run['seconds']:.0f} s"
    )
    return run


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Worst and mean figures over the runs, with their smallest margins over the plain Isolation Forest."""
    if not runs:
        return {}
    worst_p = min(r["precision"] for r in runs)
    worst_f1 = min(r["f1"] for r in runs)
    mean_f1 = statistics.fmean(r["f1"] for r in runs)
    result = {
        "runs": len(runs),
        "worst_precision": round(worst_p, 4),
        "worst_f1": round(worst_f1, 4),
        "mean_f1": round(mean_f1, 4),
        "min_precision_margin": round(min(r["precision"] - r["baseline_precision"] for r in runs), 4),
        "min_f1_margin": round(min(r["f1"] - r["baseline_f1"] for r in runs), 4),
        "mean_f1_margin": round(mean_f1 - statistics.fmean(r["baseline_f1"] for r in runs), 4),
        "false_alarms_by_kind": {},
    }
    for run in runs:
        for kind, count in run["false_alarms_by_kind"].items():
            result["false_alarms_by_kind"][kind] = result["false_alarms_by_kind"].get(kind, 0) + count
    result["targets_met"] = (
        worst_p >= TARGETS["worst_precision"]
        and worst_f1 >= TARGETS["worst_f1"]
        and mean_f1 >= TARGETS["mean_f1"]
        and min(result["min_precision_margin"], result["min_f1_margin"], result["mean_f1_margin"]) >= TARGETS["margin"]
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", required=True, help="Simulator seeds.")
    parser.add_argument(
        "--seasons", nargs="+", choices=sorted(SEASONS), default=list(DEFAULT_SEASONS), help="Where windows end."
    )
    parser.add_argument(
        "--one-season-per-seed",
        action="store_true",
        help="Seed i runs only season i (round robin) instead of every season: one run per seed.",
    )
    parser.add_argument("--year", type=int, default=2026, help="Year in which the detection windows end.")
    parser.add_argument("--jobs", type=int, default=1, choices=(1, 2), help="Runs at once (at most 2).")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/detect_seasons"), help="SQLite files and logs.")
    parser.add_argument(
        "--database-url-template",
        help="A scratch database per run instead of SQLite, e.g. postgresql://.../wattwatch_seasons_{seed}_{season}",
    )
    options = parser.parse_args()
    today = dt.date.today()
    for season in options.seasons:
        start = history_start(season, options.year)
        if start is not None and start + dt.timedelta(days=DAYS) > today:
            parser.error(f"{season} {options.year} ends after today: choose an earlier --year")
    if options.database_url_template and "{seed}" not in options.database_url_template:
        parser.error("--database-url-template needs {seed} (and {season} with more than one season)")
    if options.database_url_template and len(options.seasons) > 1 and "{season}" not in options.database_url_template:
        parser.error("--database-url-template needs {season} with more than one season")
    options.workdir.mkdir(parents=True, exist_ok=True)
    if options.one_season_per_seed:
        plan = [(seed, options.seasons[i % len(options.seasons)]) for i, seed in enumerate(options.seeds)]
    else:
        plan = [(seed, season) for seed in options.seeds for season in options.seasons]
    say(f"{len(plan)} runs, {options.jobs} at a time; logs in {options.workdir}")
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        futures = [
            pool.submit(
                run_one,
                seed=seed,
                season=season,
                year=options.year,
                template=options.database_url_template,
                workdir=options.workdir,
            )
            for seed, season in plan
        ]
        runs = [future.result() for future in futures]
    say(f"done in {time.perf_counter() - began:.0f} s")
    print(json.dumps({"runs": runs, "summary": summary(runs), "targets": TARGETS}))


if __name__ == "__main__":
    main()
