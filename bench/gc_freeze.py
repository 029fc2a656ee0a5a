"""What freezing a server process's start-up objects (`gc.freeze()`) would buy: full-collection
pauses with and without it (docs/decisions/0004-no-gc-freeze.md).

    .venv/bin/python bench/gc_freeze.py [--batches 60] [--rounds 3] [--json]

Each variant runs in a fresh process set up as a server process is (Django set up, the URLconf and
with it every view imported), then either freezes what it built (`gc.collect()`, `gc.freeze()`, as
the removed config/memory.py did) or not. It then times five explicit full
collections (`gc.collect()`, the pause a request meets when the collector runs a full pass), and
runs the front half of a gateway's batch as the ingest path does it, without a database: a
10,000-reading JSON body through the API's parser (`FastJSONParser`), its shape check and
`records_chunk`. During those batches `gc.callbacks` records every automatic full (generation 2)
collection and how long it paused the process. Rounds alternate the variants.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child(freeze: bool, batches: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import gc

    import django

    django.setup()
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  # every view and the libraries they import
    gc.collect()
    if freeze:
        gc.freeze()
    tracked = len(gc.get_objects())
    full = []
    for _ in range(5):
        started = time.perf_counter()
        gc.collect()
        full.append((time.perf_counter() - started) * 1000)

    from core.api.parsers import FastJSONParser
    from meters.api.serializers import batch_structure_errors
    from meters.ingest.parse import records_chunk

    body = json.dumps(
        [
            {"meter": f"RM-{i % 1000:04d}", "timestamp": f"2025-01-01T{i // 4000:02d}:{(i // 1000) % 4 * 15:02d}:00Z"}
            | {"kwh": 0.1 + (i % 7) / 100, "voltage": 230.0, "power_factor": 0.95}
            for i in range(10_000)
        ]
    ).encode()
    pauses: list[float] = []
    begun: list[float] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            begun.append(time.perf_counter())
        elif begun:
            pauses.append((time.perf_counter() - begun.pop()) * 1000)

    parser = FastJSONParser()
    batch_ms = []
    gc.callbacks.append(watch)
    for _ in range(batches):
        started = time.perf_counter()
        data = parser.parse(io.BytesIO(body), "application/json", {"encoding": "utf-8"})
        assert batch_structure_errors(data) is None
        records_chunk(data)
        batch_ms.append((time.perf_counter() - started) * 1000)
    gc.callbacks.remove(watch)
    return {
        "frozen": gc.get_freeze_count(),
        "tracked": tracked,
        "full_collection_ms": statistics.median(full),
        "batches": batches,
        "auto_full_collections": len(pauses),
        "auto_full_pause_ms_total": sum(pauses),
        "auto_full_pause_ms_max": max(pauses, default=0.0),
        "batch_ms_median": statistics.median(batch_ms),
        "batch_ms_max": max(batch_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=("frozen", "plain"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child == "frozen", args.batches)))
        return
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    results: dict[str, list[dict[str, Any]]] = {"plain": [], "frozen": []}
    for round_ in range(args.rounds):
        for variant in ("plain", "frozen"):
            command = [sys.executable, __file__, "--child", variant, "--batches", str(args.batches)]
            out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
            results[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
            if not args.json:
                print(f"round {round_ + 1} {variant}: {results[variant][-1]}", file=sys.stderr)
    if args.json:
        print(json.dumps(results))
        return
    print(
        f"{'variant':8} {'tracked':>9} {'full gc ms':>10} {'auto full/batches':>18} "
        f"{'pause ms total':>15} {'batch ms p50':>13}"
    )
    for variant, runs in results.items():
        for run in runs:
            print(
                f"{variant:8} {run['tracked']:>9} {run['full_collection_ms']:>10.1f} "
                f"{run['auto_full_collections']:>8}/{run['batches']:<9} {run['auto_full_pause_ms_total']:>15.1f} "
                f"{run['batch_ms_median']:>13.1f}"
            )


if __name__ == "__main__":
    main()
