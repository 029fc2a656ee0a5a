"""A full detection sweep and the nightly model runs, timed on the campus in DATABASE_URL (PostgreSQL).

    DEBUG=1 DATABASE_URL=postgres://.../scale_university REDIS_URL=redis://127.0.0.1:6379/4 \\
      ML_MODELS_DIR=/tmp/models .venv/bin/python bench/nightly.py [--baseline-days 30] [--no-train] [--json]

Steps, each timed with the machine's load average beside it:
1. with no current anomaly baseline, one is trained on the last `--baseline-days` of every meter
   (the default window, 120 days, is one frame of every reading: 58 million rows for 5,000 rooms);
2. `train_models` (forecasters, segmentation, failure risk), unless `--no-train` and they exist;
3. the beat tasks as the schedule runs them, one after the other, in this process: the detection
   sweep (every meter's last 6 hours; twice, the second warm) and the nightly forecasts, customer
   segmentation and transformer failure risk.
Targets (issue 29): the sweep under 2 minutes, the nightly runs together under 30 minutes.
Prints one JSON object as the last line with --json. Tasks the runs queue wait in REDIS_URL's broker.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def timed(name: str, work: Callable[[], Any], figures: dict[str, Any]) -> Any:
    load = os.getloadavg()[0]
    began = time.perf_counter()
    result = work()
    seconds = round(time.perf_counter() - began, 1)
    figures[name] = {"seconds": seconds, "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}
    print(f"{name:28} {seconds:8.1f} s  (load {load:.1f} -> {os.getloadavg()[0]:.1f})", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-days", type=int, default=30)
    parser.add_argument("--no-train", action="store_true", help="Keep the models that are current.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Max

    from meters.models import Meter
    from predictions.detection.baselines import baseline_current, baseline_train
    from predictions.tasks import detection_sweep_task, failure_risk_daily, forecasts_hourly, segmentation_daily

    figures: dict[str, Any] = {"meters": Meter.objects.count()}
    if baseline_current(retrain=False) is None:
        end = Meter.objects.aggregate(last=Max("last_reading_at"))["last"]
        start = end - dt.timedelta(days=args.baseline_days)
        version = timed("baseline_train", lambda: baseline_train(start=start), figures)
        figures["baseline_train"] |= {"days": args.baseline_days, "status": version.status}
    if not args.no_train:
        timed("train_models", lambda: call_command("train_models", "--json"), figures)
    figures["sweep_cold"] = {"summary": timed("sweep_first", detection_sweep_task, figures)}
    figures["sweep_warm"] = {"summary": timed("sweep_second", detection_sweep_task, figures)}
    timed("forecasts_hourly", forecasts_hourly, figures)
    timed("segmentation_daily", segmentation_daily, figures)
    timed("failure_risk_daily", failure_risk_daily, figures)
    figures["nightly_seconds"] = round(
        sum(figures[k]["seconds"] for k in ("forecasts_hourly", "segmentation_daily", "failure_risk_daily")), 1
    )
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.json:
        print(json.dumps(figures, default=str))
    else:
        print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
