"""A full detection sweep and the nightly model runs, timed on the campus in DATABASE_URL (PostgreSQL).

    DEBUG=1 DATABASE_URL=postgres://.../scale_university REDIS_URL=redis://127.0.0.1:6379/4 \\
      ML_MODELS_DIR=/tmp/models .venv/bin/python bench/nightly.py [--baseline-days 30] [--no-train] [--json]

Steps, each timed with the machine's load average beside it, each printed (stderr) as it ends:
1. with no current anomaly baseline, one is trained on the last `--baseline-days` of every meter
   (the default window, 120 days, is one frame of every reading: 58 million rows for 5,000 rooms);
2. the detection sweep as the beat task runs it (every meter's last 6 hours), twice;
3. the weekly training of segmentation and failure risk (unless `--no-train`), then the nightly
   segmentation and failure-risk runs;
4. the weekly training of every forecaster (unless `--no-train`), then the hourly forecasts run
   (it trains any subject that has no current model itself). With `--forecast-kinds`, only those
   subjects (forecasts_produce's `kinds`), and the run's time is scaled to every subject.
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
    """Run `work`, record its seconds and the load average before and after under `name`; return its result."""
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
    parser.add_argument(
        "--forecast-kinds",
        nargs="+",
        choices=["hostel", "transformer", "site"],
        help="Train and forecast only these subjects (the per-subject time then scales to all); default: all.",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db.models import Max

    from meters.models import Meter
    from predictions.detection.baselines import baseline_current, baseline_train
    from predictions.forecasting.series import subjects_all
    from predictions.forecasting.services import forecaster_train, forecasts_fill_actuals, forecasts_produce
    from predictions.tasks import detection_sweep_task, failure_risk_daily, forecasts_hourly, segmentation_daily
    from predictions.training import models_train

    figures: dict[str, Any] = {"meters": Meter.objects.count()}
    if baseline_current(retrain=False) is None:
        end = Meter.objects.aggregate(last=Max("last_reading_at"))["last"]
        start = end - dt.timedelta(days=args.baseline_days)
        version = timed("baseline_train", lambda: baseline_train(start=start), figures)
        figures["baseline_train"] |= {"days": args.baseline_days, "status": version.status}

    def step(name: str, work: Callable[[], Any]) -> None:
        figures[name]["result"] = timed(name, work, figures)

    step("sweep_first", detection_sweep_task)
    step("sweep_second", detection_sweep_task)
    # Weekly training first where the nightly run needs a model (the failure-risk scoring does), then
    # the nightly run; the forecasters last: forecasts_hourly trains any subject without a current model.
    if not args.no_train:
        step("train_segmentation_failure", lambda: models_train(families=("segmentation", "failure")))
    step("segmentation_daily", segmentation_daily)
    step("failure_risk_daily", failure_risk_daily)
    kinds = tuple(args.forecast_kinds or ())
    subjects = [s for s in subjects_all() if not kinds or s.kind in kinds]
    figures["forecast_subjects"] = {"measured": len(subjects), "all": len(subjects_all())}
    if not args.no_train:
        step("train_forecasters", lambda: [forecaster_train(subject=s).status for s in subjects])
    if kinds:  # forecasts_hourly's work for these subjects only
        step("forecasts_hourly", lambda: {"filled": forecasts_fill_actuals()} | forecasts_produce(kinds=kinds))
    else:
        step("forecasts_hourly", forecasts_hourly)
    share = figures["forecast_subjects"]["all"] / max(figures["forecast_subjects"]["measured"], 1)
    figures["forecasts_hourly"]["seconds_all_subjects_estimated"] = round(
        figures["forecasts_hourly"]["seconds"] * share, 1
    )
    # With --forecast-kinds, the forecasts' share is scaled to every subject.
    figures["nightly_seconds"] = round(
        figures["forecasts_hourly"]["seconds_all_subjects_estimated"]
        + sum(figures[k]["seconds"] for k in ("segmentation_daily", "failure_risk_daily")),
        1,
    )
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.json:
        print(json.dumps(figures, default=str))
    else:
        print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
