"""Detection speed: training all meters of the demo campus, and scoring throughput in readings per second.

Uses the campus already in the database DATABASE_URL points at, or simulates the demo campus
(seed 7) into it when it has no readings. Scoring is measured on readings already in memory
(baseline prediction, residual windows, every detector and the merge into incidents); loading
readings from the database is reported separately.

    DEBUG=1 DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python manage.py migrate -v0
    DEBUG=1 DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python bench/detect_throughput.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from meters.models import Reading  # noqa: E402
from predictions.detection.baselines import detection_meter_ids, meter_policies  # noqa: E402
from predictions.detection.detectors import DetectorConfig, frame_candidates  # noqa: E402
from predictions.detection.frames import frame_load, meter_infos  # noqa: E402
from predictions.ml.anomaly import AnomalyBaseline  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="Scoring passes; the best is reported.")
    options = parser.parse_args()
    if not Reading.objects.exists():
        call_command("simulate_campus", "--scale", "demo", "--seed", "7", "--no-progress")
    ids = detection_meter_ids()
    began = time.perf_counter()
    frame = frame_load(meter_ids=ids)
    load_seconds = time.perf_counter() - began
    model = AnomalyBaseline()
    began = time.perf_counter()
    model.train(frame)
    train_seconds = time.perf_counter() - began
    infos = meter_infos(meter_ids=ids)
    policies = meter_policies(meter_ids=ids)
    config = DetectorConfig()
    best = float("inf")
    candidates = 0
    for _ in range(options.repeat):
        began = time.perf_counter()
        pred = model.predict(frame, with_iforest=False, peers=True)
        candidates = len(frame_candidates(frame=frame, pred=pred, infos=infos, policies=policies, config=config))
        best = min(best, time.perf_counter() - began)
    result = {
        "meters": len(ids),
        "readings": len(frame),
        "load_seconds": round(load_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        "score_seconds": round(best, 2),
        "readings_per_second": round(len(frame) / best),
        "candidates": candidates,
        "note": "1 thread (nthread=1, n_jobs=1); timings on a shared 2-core machine",
    }
    for key, value in result.items():
        print(f"{key:24} {value}")
    if options.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
