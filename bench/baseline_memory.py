"""Memory and time of the anomaly baseline's training on the campus in DATABASE_URL (PostgreSQL).

    DEBUG=1 DATABASE_URL=postgres://.../campus ML_MODELS_DIR=/tmp/models \\
      .venv/bin/python bench/baseline_memory.py [--days 30] [--trace] [--json]

Trains one version on the last `--days` of every detected meter (not promoted, nothing else
touched but a FAILED/CANDIDATE model version row and its artifact) and prints the readings read,
the seconds, and the process's peak RSS. `--trace` also runs tracemalloc and prints the peak of
Python and numpy allocations while loading the readings and while training (slower: for where the
memory goes, not for the time). Run it in a fresh process per measurement: peak RSS only grows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db.models import Max  # noqa: E402

from meters.models import Meter  # noqa: E402
from predictions.detection import baselines  # noqa: E402


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--trace", action="store_true", help="tracemalloc peaks of loading and training")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ids = baselines.detection_meter_ids()
    end = Meter.objects.filter(id__in=ids).aggregate(last=Max("last_reading_at"))["last"] + dt.timedelta(hours=1)
    start = end - dt.timedelta(days=args.days)
    load = os.getloadavg()[0]
    result: dict[str, object] = {"meters": len(ids), "days": args.days, "rss_before_mb": _peak_rss_mb()}
    if args.trace:
        from predictions.detection.frames import frame_load
        from predictions.ml.anomaly import AnomalyBaseline

        tracemalloc.start()
        began = time.perf_counter()
        frame = frame_load(meter_ids=ids, start=start, end=end)
        result["load_trace_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        result["frame_mb"] = round(frame.memory_usage(deep=True).sum() / 2**20, 1)
        tracemalloc.reset_peak()
        AnomalyBaseline().train(frame)
        result["train_trace_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        result["readings"] = len(frame)
        tracemalloc.stop()
    else:
        began = time.perf_counter()
        version = baselines.baseline_train(meter_ids=ids, start=start, end=end, promote=False, keep_loaded=False)
        result["readings"] = (version.metrics or {}).get("training_rows")
        result["status"] = version.status
    result["seconds"] = round(time.perf_counter() - began, 1)
    result["peak_rss_mb"] = _peak_rss_mb()
    result["load_avg"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
