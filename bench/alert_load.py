"""Give a simulated campus the alert load of its last days: detection over every meter, in 6-hour windows.

    DATABASE_URL=postgres://... REDIS_URL=redis://... DEBUG=1 .venv/bin/python bench/alert_load.py [--days 7] [--json]

Run after `bench/simulate_large.py` and `manage.py train_baseline` on the same database, before
`bench/pages.py`, so the pages are timed with the inbox, the alert pages and the home's lists as full as a
week of the simulator's incidents makes them (docs/scaling.md). The findings are stored as a scan of history
does (`history=True`: marked as found in history, no toasts, emails or webhooks). Windows already scanned
are upserted, not doubled. Progress per window on stderr; the last line of --json is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

WINDOW = dt.timedelta(hours=6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=7.0, help="How many days back from the last reading.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import transaction

    from alerts.models import Alert
    from meters.models import Reading
    from predictions.detection.services import anomalies_detect
    from predictions.models import Anomaly

    last = Reading.objects.order_by("-timestamp").values_list("timestamp", flat=True).first()
    if last is None:
        raise SystemExit("no readings: simulate a campus first")
    end = last.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    start = end - dt.timedelta(days=args.days)
    began = time.perf_counter()
    created = 0
    at = start
    while at < end:
        with transaction.atomic():
            result = anomalies_detect(start=at, end=min(at + WINDOW, end), history=True)
        created += len(result.created)
        print(
            f"{at:%Y-%m-%d %H:%M} +6 h: {len(result.created)} new findings ({time.perf_counter() - began:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        at += WINDOW
    report = {
        "days": args.days,
        "new_findings": created,
        "anomalies": Anomaly.objects.count(),
        "open_alerts": Alert.objects.filter(status__in=Alert.ACTIVE).count(),
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(report) if args.json else "\n".join(f"{key:14} {value}" for key, value in report.items()))


if __name__ == "__main__":
    main()
