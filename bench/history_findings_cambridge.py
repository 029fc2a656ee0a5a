"""What an imported history puts in the inbox: the Cambridge buildings imported with the README's commands,
the site's history scan run as the imports worker runs it, and the findings counted by kind and severity.

Findings on real buildings have no labels to score against beyond closed days (`detect_cambridge_days.py`);
this shows what a facility team would be asked to look at, so a kind that fires on every quiet night stands out.

    export DEBUG=1 DATABASE_URL=sqlite:////tmp/findings.sqlite3
    .venv/bin/python manage.py migrate -v0
    .venv/bin/python bench/history_findings_cambridge.py                 # the eight with a clear working week
    .venv/bin/python bench/history_findings_cambridge.py --only b110 b14 --years 2019

Use a scratch database (the run creates the site `cambridge` and its meters). Progress lines first, then ONE
JSON object as the last line.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import sys
import time
from pathlib import Path

os.environ["HISTORY_SCAN_QUIET_SECONDS"] = "0"  # the site's import scan starts once the imports are in

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from detect_cambridge import ARCHIVE_FLAGS, DATA  # noqa: E402
from detect_cambridge_days import CLEAR_WEEK  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Count  # noqa: E402

from alerts.models import Alert  # noqa: E402
from predictions.detection.history import history_scan_step  # noqa: E402
from predictions.models import Anomaly, HistoryScan  # noqa: E402


def scans_run() -> None:
    """Run the queued scans' steps here, one after another, as the imports worker would (era trainings too)."""
    for scan in HistoryScan.objects.exclude(status__in=(HistoryScan.Status.DONE, HistoryScan.Status.FAILED)):
        started = time.perf_counter()
        while True:
            step = history_scan_step(scan_id=scan.pk, train=True)
            scan.refresh_from_db()
            if scan.status in (HistoryScan.Status.DONE, HistoryScan.Status.FAILED) or "skipped" in step:
                break
        print(
            f"scan {scan.pk} ({scan.reason}, {scan.meters_total} meters): {scan.status}, {scan.findings} findings "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="building codes (default: the eight with a clear working week)")
    parser.add_argument("--years", nargs="*", default=["2018", "2019"], help="files to import (default both)")
    options = parser.parse_args()
    codes = [code for code in CLEAR_WEEK if not options.only or code in options.only]
    began = time.perf_counter()
    for year in options.years:  # weather first: a user's scan waits for its quiet period, and the weather is in
        call_command(
            "import_weather",
            str(DATA / "weather" / f"{year}.csv"),
            "--site",
            "cambridge",
            "--site-timezone",
            "Europe/London",
            "--timezone",
            "UTC",
            "--json",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    for code in codes:
        for year in options.years:
            path = DATA / "electricity" / f"UCam_Building_{code}" / f"{year}.csv"
            if not path.is_file():
                continue
            started = time.perf_counter()
            call_command(
                "import_readings",
                str(path),
                "--meter",
                f"UCam_Building_{code}",
                *ARCHIVE_FLAGS,
                "--timezone",
                "UTC",
                "--site-timezone",
                "Europe/London",
                "--create-meters",
                "--site",
                "cambridge",
                "--json",
                stdout=io.StringIO(),
                stderr=io.StringIO(),
            )
            print(f"{code} {year}: imported in {time.perf_counter() - started:.0f} s", flush=True)
    scans_run()
    by_building: dict[str, dict[str, int]] = {}
    for row in Anomaly.objects.values("meter__serial", "kind").annotate(n=Count("id")).order_by("meter__serial"):
        by_building.setdefault(row["meter__serial"].removeprefix("UCam_Building_"), {})[row["kind"]] = row["n"]
    kinds: collections.Counter[str] = collections.Counter()
    for counts in by_building.values():
        kinds.update(counts)
    severities = {
        f"{row['source_payload__kind']}:{row['severity']}": row["n"]
        for row in Alert.objects.values("source_payload__kind", "severity").annotate(n=Count("id")).order_by()
    }
    for code, counts in by_building.items():
        print(f"{code:5} " + ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())), flush=True)
    report = {
        "buildings": codes,
        "years": options.years,
        "scans": HistoryScan.objects.count(),
        "findings": sum(kinds.values()),
        "findings_by_kind": dict(sorted(kinds.items())),
        "findings_by_building": by_building,
        "alerts": Alert.objects.count(),
        "alerts_by_kind_and_severity": dict(sorted(severities.items())),
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
