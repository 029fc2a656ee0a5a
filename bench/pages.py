"""Server time of every page, per role, against the database in DATABASE_URL.

    DATABASE_URL=postgres://... REDIS_URL=redis://... DEBUG=1 .venv/bin/python bench/pages.py [--rounds 20] [--json]
        [--only admin:/system/ --only manager:/]

Requests go through Django's full stack in-process (middleware, views, templates, ORM), so the
figure is server time without the network. Run it after `simulate_campus --scale large`.
Target (issue 8): every page under 300 ms at the 95th percentile. Each row also counts the collector's
full passes (generation 2) during its timed requests and their longest pause (`gc_full`, `gc_max_ms`):
on a large campus one pass of about 0.2 s comes every 30 or so requests of the heaviest pages.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", action="append", default=[], metavar="USER:PATH", help="Only this page (repeatable).")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment
    from tqdm import tqdm

    from meters.models import Hostel, Room

    setup_test_environment()
    users = get_user_model().objects
    first_hostel = Hostel.objects.order_by("site_id", "code").values_list("id", flat=True).first()
    first_room = (
        Room.objects.filter(hostel_id=first_hostel).order_by("floor", "number").values_list("id", flat=True).first()
    )
    room = [f"/rooms/{first_room}/", f"/rooms/{first_room}/hours.csv"] if first_room else []
    csvs = [
        "/dashboard/hostels.csv",
        "/dashboard/forecast.csv",
        "/dashboard/risks.csv",
        "/dashboard/segments.csv",
        "/dashboard/alerts.csv",
    ]
    from alerts.models import Alert

    alert = Alert.objects.filter(hostel_id=first_hostel).order_by("-pk").values_list("pk", flat=True).first()
    alerts = ["/alerts/", *([f"/alerts/{alert}/"] if alert else [])]
    pages = {
        "admin": [
            "/",
            "/dashboard/",
            "/system/",
            "/system/freshness.csv",
            "/admin/",
            "/admin/meters/reading/",
            "/admin/meters/meter/",
            "/meters/upload/",
        ],
        "manager": ["/", "/dashboard/", f"/hostels/{first_hostel}/", *room, *alerts, *csvs],
        "warden_a": ["/", "/dashboard/", f"/hostels/{first_hostel}/", *room, *alerts],
    }
    extra = [line.strip() for line in os.environ.get("BENCH_EXTRA_PAGES", "").split(",") if line.strip()]
    # The collector's full passes, timed: they are the slow request in thirty or so (docs/scaling.md).
    passes: list[float] = []
    pass_started = [0.0]

    def collector(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            pass_started[0] = time.perf_counter()
        elif info["generation"] == 2:
            passes.append((time.perf_counter() - pass_started[0]) * 1000)

    gc.callbacks.append(collector)
    results = []
    for username, paths in pages.items():
        if args.only and not any(only.startswith(f"{username}:") for only in args.only):
            continue
        client = Client()
        client.force_login(users.get(username=username))
        for path in [*paths, *extra]:
            if args.only and f"{username}:{path}" not in args.only:
                continue
            client.get(path)  # warm caches and connections
            timings = []
            status = 0
            before = len(passes)
            for _ in tqdm(range(args.rounds), desc=f"{username} {path}", leave=False, file=sys.stderr):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                status = response.status_code
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            full = passes[before:]
            results.append(
                {
                    "user": username,
                    "path": path,
                    "status": status,
                    "p50_ms": statistics.median(timings),
                    "p95_ms": p95,
                    "gc_full": len(full),
                    "gc_max_ms": round(max(full, default=0.0), 1),
                }
            )
    for row in results:
        timing = f"p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms"
        timing += f"  gc full {row['gc_full']} ({row['gc_max_ms']} ms)"
        print(f"{row['user']:9} {row['path']:40} {row['status']}  {timing}")
    worst = max(results, key=lambda row: row["p95_ms"])
    print(f"worst p95: {worst['p95_ms']:.1f} ms ({worst['user']} {worst['path']})")
    if args.json:
        print(json.dumps({"pages": results, "worst_p95_ms": worst["p95_ms"]}))


if __name__ == "__main__":
    main()
