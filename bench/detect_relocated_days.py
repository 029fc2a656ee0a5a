"""Closed days of the Cambridge buildings moved to another country, imported as a user would import them.

Day-level detection knows no country: it learns each building's weekend and judges its days in the site's
local time. This checks that, and the import path a user takes, on the eight Cambridge buildings with a
clear working week. Each building's history (and the weather) is moved to another zone and calendar:

- every reading keeps its local wall-clock time (a Cambridge 09:00 stays a 09:00 there),
- the dates move back `--shift-days` days (default 1: the Saturday-Sunday weekend becomes Friday-Saturday,
  as in much of the Middle East; the labelled closed days move with them),
- the file is written in UTC (`--file-zone UTC`, as most exports keep data) or in the local zone.

Then it runs what a user runs: `import_readings --zero-is-missing --create-meters --site ... --timezone
<file zone> --site-timezone <zone>` and `import_weather`, writes a day label file per building (its closed
weekdays moved the same way) and scores it like `evaluate_detector --meter SERIAL --labels PATH`.
`--no-site-timezone` leaves `--site-timezone` out, as an import that forgets it would: the site then keeps
its days in the file's zone. Prints one line per building and, last, one JSON object.

Use a scratch database; each run makes its own site:

    export DEBUG=1 DATABASE_URL=sqlite:////tmp/relocated.sqlite3
    .venv/bin/python manage.py migrate -v0
    .venv/bin/python bench/detect_relocated_days.py --zone Asia/Dubai --shift-days 1
    .venv/bin/python bench/detect_relocated_days.py --zone Australia/Sydney --shift-days 0
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import holidays  # noqa: E402
import pandas as pd  # noqa: E402
from detect_cambridge import ARCHIVE_FLAGS, DATA  # noqa: E402
from detect_cambridge_days import CLEAR_WEEK, KEYS, closed_weekday  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Max, Min  # noqa: E402

from meters.models import Reading  # noqa: E402
from predictions.detection.evaluate_run import evaluate_meter  # noqa: E402

HOME = ZoneInfo("Europe/London")


def moved(stamps: pd.Series, *, zone: ZoneInfo, shift_days: int, file_zone: str) -> pd.Series:
    """UTC stamps of Cambridge as the same wall-clock times `shift_days` earlier in `zone`, written in `file_zone`.

    Wall-clock times that do not exist there or occur twice (a change of the clocks) are dropped, as a
    meter there would not have them.
    """
    wall = pd.to_datetime(stamps, utc=True).dt.tz_convert(HOME).dt.tz_localize(None) - pd.Timedelta(days=shift_days)
    there = wall.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    written = there.dt.tz_convert(file_zone) if file_zone != "local" else there
    return written.dt.strftime("%Y-%m-%d %H:%M:%S").where(there.notna())


def files_write(*, folder: Path, zone: ZoneInfo, shift_days: int, file_zone: str) -> dict[str, list[Path]]:
    """The moved electricity files of the clear-week buildings, and the moved weather (key 'weather')."""
    out: dict[str, list[Path]] = {"weather": []}
    sources = {code: sorted((DATA / "electricity" / f"UCam_Building_{code}").glob("*.csv")) for code in CLEAR_WEEK}
    sources["weather"] = sorted((DATA / "weather").glob("*.csv"))
    for code, paths in sources.items():
        out[code] = []
        for path in paths:
            frame = pd.read_csv(path)
            frame[frame.columns[0]] = moved(frame.iloc[:, 0], zone=zone, shift_days=shift_days, file_zone=file_zone)
            frame = frame.dropna(subset=[frame.columns[0]]).drop_duplicates(subset=[frame.columns[0]])
            target = folder / code / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(target, index=False)
            out[code].append(target)
    return out


def labels_write(*, serial: str, zone: ZoneInfo, shift_days: int, folder: Path) -> Path:
    """Every local day of the meter's readings there: closed when its Cambridge day was a closed weekday."""
    bounds = Reading.objects.filter(meter__serial=serial).aggregate(first=Min("timestamp"), last=Max("timestamp"))
    first, last = bounds["first"].astimezone(zone).date(), bounds["last"].astimezone(zone).date()
    bank_holidays = holidays.UK(subdiv="ENG", years=range(first.year, last.year + 2))
    path = folder / f"{serial}.csv"
    with path.open("w") as handle:
        handle.write("date,is_anomaly\n")
        day = first
        while day <= last:
            home_day = day + dt.timedelta(days=shift_days)
            handle.write(f"{day.isoformat()},{int(closed_weekday(home_day, bank_holidays))}\n")
            day += dt.timedelta(days=1)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zone", default="Asia/Dubai", help="IANA zone the buildings move to")
    parser.add_argument("--shift-days", type=int, default=1, help="days the dates move back (1: Fri-Sat weekend)")
    parser.add_argument("--file-zone", default="UTC", help="zone the files are written in: UTC, or 'local'")
    parser.add_argument("--no-site-timezone", action="store_true", help="import without --site-timezone")
    parser.add_argument("--only", nargs="*", help="building codes (default: the eight with a clear week)")
    options = parser.parse_args()
    zone = ZoneInfo(options.zone)
    place = options.zone.rsplit("/", 1)[-1].lower()[:12]
    site = f"{place}-{options.shift_days}{'-utc' if options.no_site_timezone else ''}"  # one site per variant
    codes = [c for c in CLEAR_WEEK if not options.only or c in options.only]
    timestamps_zone = options.zone if options.file_zone == "local" else options.file_zone
    site_args = [] if options.no_site_timezone else ["--site-timezone", options.zone]
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="relocated-") as scratch:
        folder = Path(scratch)
        began = time.perf_counter()
        files = files_write(folder=folder, zone=zone, shift_days=options.shift_days, file_zone=options.file_zone)
        for code in codes:
            for path in files[code]:
                call_command(
                    "import_readings",
                    str(path),
                    "--meter",
                    f"{site}-{code}",
                    *ARCHIVE_FLAGS,
                    "--timezone",
                    timestamps_zone,
                    *site_args,
                    "--create-meters",
                    "--site",
                    site,
                    "--json",
                    stdout=io.StringIO(),
                    stderr=io.StringIO(),
                )
        for path in files["weather"]:
            call_command(
                "import_weather",
                str(path),
                "--site",
                site,
                "--timezone",
                timestamps_zone,
                "--json",
                stdout=io.StringIO(),
            )
        print(f"moved and imported {len(codes)} buildings in {time.perf_counter() - began:.0f} s", flush=True)
        for code in codes:
            began = time.perf_counter()
            serial = f"{site}-{code}"
            labels = labels_write(serial=serial, zone=zone, shift_days=options.shift_days, folder=folder)
            result = evaluate_meter(serial=serial, labels=labels)
            rows[code] = {key: result[key] for key in KEYS}
            print(
                f"{code:5} day P {result['day_precision']:.2f} R {result['day_recall']:.2f} "
                f"F1 {result['day_f1']:.2f} | per finding F1 {result['day_event_f1']:.2f} | "
                f"baseline F1 {result['baseline_day_f1']:.2f} ({time.perf_counter() - began:.0f} s)",
                flush=True,
            )
    report = {
        "zone": options.zone,
        "shift_days": options.shift_days,
        "file_zone": options.file_zone,
        "site_timezone": not options.no_site_timezone,
        "clear_week": rows,
        "mean_day_f1": round(sum(r["day_f1"] for r in rows.values()) / max(len(rows), 1), 4),
        "mean_day_event_f1": round(sum(r["day_event_f1"] for r in rows.values()) / max(len(rows), 1), 4),
        "mean_baseline_day_f1": round(sum(r["baseline_day_f1"] for r in rows.values()) / max(len(rows), 1), 4),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
