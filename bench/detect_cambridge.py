"""False alerts per meter-month on 10 real Cambridge buildings: train on 2018, detect on 2019 (no labels).

Loads the buildings (hourly kWh, UTC, exact 0 = missing) and the Bedford weather with bulk_create
into the database DATABASE_URL points at (use a scratch one), trains the anomaly baseline on 2018,
detects over 2019 and counts what would have been alerted. With no labels every alert counts as
false, so the figure is an upper bound.

    DEBUG=1 DATABASE_URL=sqlite:////tmp/cambridge.sqlite3 .venv/bin/python manage.py migrate -v0
    DEBUG=1 DATABASE_URL=sqlite:////tmp/cambridge.sqlite3 .venv/bin/python bench/detect_cambridge.py [--json]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import pandas as pd  # noqa: E402

from meters.models import Hostel, Meter, Reading, Site, Weather  # noqa: E402
from predictions.detection import DetectorConfig, baseline_train, incidents_find  # noqa: E402
from predictions.detection.baselines import _model_of  # noqa: E402
from predictions.detection.detectors import CONSUMPTION_KINDS  # noqa: E402

# The shared data sits next to the repository: ../shared/data/cambridge from the repo root.
DATA = Path(os.environ.get("CAMBRIDGE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "cambridge"))
# How the README imports an archive file (`import_readings`): its columns, and its zeros as missing.
ARCHIVE_FLAGS = ("--timestamp-column", "datetime", "--kwh-column", "equipment load [kWh]", "--zero-is-missing")
Y2018 = dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
Y2019 = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
Y2020 = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def load() -> list[int]:
    site, _ = Site.objects.get_or_create(
        code="cambridge",
        defaults={"name": "Cambridge", "timezone": "Europe/London", "latitude": 52.2, "longitude": 0.12},
    )
    if not Weather.objects.filter(site=site).exists():
        for year in (2018, 2019):
            weather = pd.read_csv(DATA / "weather" / f"{year}.csv")
            Weather.objects.bulk_create(
                (
                    Weather(
                        site=site,
                        timestamp=pd.Timestamp(row[0]).tz_localize("UTC").to_pydatetime(),
                        temperature_c=float(row[1]),
                        humidity_pct=float(row[2]) if pd.notna(row[2]) else None,
                        irradiance_wm2=max(float(row[3]), 0.0) if pd.notna(row[3]) else None,
                    )
                    for row in weather.itertuples(index=False)
                    if pd.notna(row[1])
                ),
                batch_size=5000,
                ignore_conflicts=True,
            )
    ids = []
    for folder in sorted((DATA / "electricity").iterdir()):
        code = folder.name.split("_")[-1]
        hostel, _ = Hostel.objects.get_or_create(site=site, code=code, defaults={"name": f"Building {code}"})
        meter, created = Meter.objects.get_or_create(
            serial=f"CAM-{code}",
            defaults={
                "kind": Meter.Kind.HOSTEL_MAIN,
                "hostel": hostel,
                "interval_minutes": 60,
                "rated_kw": 5000,
                "installed_at": Y2018 if (folder / "2018.csv").exists() else Y2019,
            },
        )
        ids.append(meter.id)
        if not created and Reading.objects.filter(meter=meter).exists():
            continue
        for year in (2018, 2019):
            if not (folder / f"{year}.csv").exists():  # b54 and b117: 2019 only
                continue
            frame = pd.read_csv(folder / f"{year}.csv")
            frame = frame[frame.iloc[:, 1] != 0]  # upstream filled missing readings with 0
            Reading.objects.bulk_create(
                (
                    Reading(meter=meter, timestamp=pd.Timestamp(ts).tz_localize("UTC").to_pydatetime(), kwh=float(kwh))
                    for ts, kwh in frame.itertuples(index=False)
                    if pd.notna(kwh)
                ),
                batch_size=5000,
                ignore_conflicts=True,
            )
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    began = time.perf_counter()
    ids = load()
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    version = baseline_train(meter_ids=ids, start=Y2018, end=Y2019)
    trained = time.perf_counter() - began
    model = _model_of(version)
    # Hourly whole buildings: rules counted in intervals need fewer of them.
    config = DetectorConfig(flat_intervals=6, dead_intervals=3)
    began = time.perf_counter()
    found, readings = incidents_find(meter_ids=ids, start=Y2019, end=Y2020, config=config, model=model)
    detected = time.perf_counter() - began
    alerts = [f for f in found if not f.muted]
    months = 12 * len(ids)
    by_kind = collections.Counter(f.kind for f in alerts)
    consumption = sum(n for k, n in by_kind.items() if k in CONSUMPTION_KINDS)
    result = {
        "buildings": len(ids),
        "readings_2019": readings,
        "alerts": len(alerts),
        "alerts_per_meter_month": round(len(alerts) / months, 3),
        "consumption_alerts_per_meter_month": round(consumption / months, 3),
        "data_quality_alerts_per_meter_month": round((len(alerts) - consumption) / months, 3),
        "muted": len(found) - len(alerts),
        "by_kind": dict(by_kind.most_common()),
        "fit_meters": version.metrics.get("fit_meters"),
        "holdout_cv_rmse": version.metrics.get("holdout_cv_rmse"),
        "load_seconds": round(loaded, 1),
        "train_seconds": round(trained, 1),
        "detect_seconds": round(detected, 1),
    }
    for key, value in result.items():
        print(f"{key:40} {value}")
    if options.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
