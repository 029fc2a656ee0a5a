"""From an ingested batch to a stored anomaly, with a separate Celery worker on Redis.

Simulates the tiny campus (meters/simulation, 10 days, no incidents) in the database DATABASE_URL
points at (PostgreSQL, a scratch one), trains the baseline, starts `celery -A config worker` as its
own process on REDIS_URL, then ingests batches of readings through `readings_ingest` (the service
the API and importer call), each with one obvious spike, and times commit -> `predictions.Anomaly`
row visible.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/wattwatch_detect_bench \
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/detect_latency.py --batches 20 --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from meters.ingest.service import readings_ingest  # noqa: E402
from meters.models import Meter, Reading  # noqa: E402
from meters.simulation import campus_simulate  # noqa: E402
from predictions.detection import baseline_train  # noqa: E402
from predictions.models import Anomaly  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    Anomaly.objects.all().delete()
    simulated = Meter.objects.filter(kind=Meter.Kind.ROOM, room__hostel__site__code="sim")
    if not simulated.exists():
        campus_simulate(scale="tiny", seed=21, days=10, start_date=dt.date(2025, 3, 3), incidents=False, progress=False)
    baseline_train()
    meters = list(simulated.order_by("serial"))
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-c", "1", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        time.sleep(8)  # worker start-up, not part of the latency
        latencies = []
        for n in range(options.batches):
            meter = meters[n % len(meters)]
            last = Reading.objects.filter(meter=meter).order_by("-timestamp").values_list("timestamp", flat=True)[0]
            stamps = [last + dt.timedelta(minutes=15 * (i + 1)) for i in range(4)]
            rows = [
                {"meter": meter.serial, "timestamp": t.isoformat(), "kwh": 2.5 if i == 3 else 0.05, "voltage": 230.0}
                for i, t in enumerate(stamps)
            ]
            began = time.perf_counter()
            readings_ingest(rows=rows, source="bench-latency")
            while not Anomaly.objects.filter(meter=meter, start__lte=stamps[-1], end__gt=stamps[-1]).exists():
                if time.perf_counter() - began > 30:
                    break
                time.sleep(0.02)
            latencies.append(time.perf_counter() - began)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    latencies.sort()
    result = {
        "batches": len(latencies),
        "p50_seconds": round(statistics.median(latencies), 3),
        "p95_seconds": round(latencies[max(0, int(0.95 * len(latencies)) - 1)], 3),
        "max_seconds": round(latencies[-1], 3),
    }
    for key, value in result.items():
        print(f"{key:16} {value}")
    if options.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
