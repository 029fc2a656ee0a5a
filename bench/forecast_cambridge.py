"""Day-ahead forecast accuracy on the 10 real Cambridge buildings: train 2018, test 2019.

    DEBUG=1 .venv/bin/python bench/forecast_cambridge.py [--json] [--buildings b105 b109]

Loads the CSVs into Meter/Reading/Weather when they are not there yet (site `cambridge`, meters
`UCam_Building_<id>`, exact zeros left out as missing), then runs the same backtest as
`manage.py backtest_forecast` for each building and prints combined vs Prophet alone vs naive.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import holidays  # noqa: E402
import pandas as pd  # noqa: E402

from meters.models import AcademicPeriod, Meter, Reading, Site, Weather  # noqa: E402
from predictions.forecasting.backtest import meter_backtest  # noqa: E402

DATA = Path(os.environ.get("CAMBRIDGE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "cambridge"))
YEARS = (2018, 2019)


def load_site() -> Site:
    site, _ = Site.objects.get_or_create(
        code="cambridge",
        defaults={
            "name": "Cambridge (real buildings)",
            "timezone": "Europe/London",
            "latitude": 52.2,
            "longitude": 0.12,
        },
    )
    if not Weather.objects.filter(site=site).exists():
        rows = []
        for year in YEARS:
            frame = pd.read_csv(DATA / "weather" / f"{year}.csv", parse_dates=["datetime"])
            for at, temp, hum, irr in frame.itertuples(index=False):
                rows.append(
                    Weather(
                        site=site,
                        timestamp=at.to_pydatetime().replace(tzinfo=dt.UTC),
                        temperature_c=float(temp),
                        humidity_pct=None if pd.isna(hum) else min(max(float(hum), 0.0), 100.0),
                        irradiance_wm2=None if pd.isna(irr) else max(float(irr), 0.0),
                    )
                )
        Weather.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    if not AcademicPeriod.objects.filter(site=site).exists():
        AcademicPeriod.objects.bulk_create(
            AcademicPeriod(site=site, kind=AcademicPeriod.Kind.HOLIDAY, name=name, start=day, end=day)
            for day, name in holidays.country_holidays("GB", subdiv="ENG", years=YEARS).items()
        )
    return site


def load_building(building: str) -> str:
    serial = f"UCam_Building_{building}"
    meter, created = Meter.objects.get_or_create(
        serial=serial,
        defaults={
            "kind": Meter.Kind.FEEDER,
            "interval_minutes": 60,
            "rated_kw": 5000,
            "installed_at": dt.datetime(2017, 1, 1, tzinfo=dt.UTC),
        },
    )
    if created or not Reading.objects.filter(meter=meter).exists():
        rows = []
        for year in YEARS:
            frame = pd.read_csv(DATA / "electricity" / serial / f"{year}.csv", parse_dates=["datetime"])
            for at, kwh in frame.itertuples(index=False):
                if pd.isna(kwh) or float(kwh) == 0.0:  # upstream wrote 0 for missing
                    continue
                rows.append(Reading(meter=meter, timestamp=at.to_pydatetime().replace(tzinfo=dt.UTC), kwh=float(kwh)))
        Reading.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return serial


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--buildings", nargs="*")
    args = parser.parse_args()
    buildings = args.buildings or sorted(
        p.name.removeprefix("UCam_Building_") for p in (DATA / "electricity").iterdir()
    )
    site = load_site()
    results = []
    for building in buildings:
        serial = load_building(building)
        started = time.perf_counter()
        result, _ = meter_backtest(
            serial=serial,
            train_until=dt.datetime(2019, 1, 1, tzinfo=dt.UTC),
            until=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            site_code=site.code,
        )
        s = result.scores
        row = {
            "building": building,
            "cv_rmse": s.get("cv_rmse"),
            "prophet_cv_rmse": s.get("prophet_cv_rmse"),
            "naive_cv_rmse": s.get("naive_cv_rmse"),
            "nmbe": s.get("nmbe"),
            "mase": s.get("mase"),
            "seconds": round(time.perf_counter() - started, 1),
        }
        row["beats_naive"] = bool(row["cv_rmse"] is not None and row["cv_rmse"] < (row["naive_cv_rmse"] or 0))
        results.append(row)
        if not args.json:
            print(
                f"{building:6s} combined {100 * row['cv_rmse']:6.2f}%  prophet {100 * row['prophet_cv_rmse']:6.2f}%  "
                f"naive {100 * row['naive_cv_rmse']:6.2f}%  NMBE {100 * row['nmbe']:6.2f}%  MASE {row['mase']:.3f}  "
                f"{row['seconds']:5.1f} s",
                flush=True,
            )
    summary = {
        "buildings": len(results),
        "beats_naive": sum(r["beats_naive"] for r in results),
        "median_cv_rmse": statistics.median(r["cv_rmse"] for r in results),
        "median_prophet_cv_rmse": statistics.median(r["prophet_cv_rmse"] for r in results),
        "median_naive_cv_rmse": statistics.median(r["naive_cv_rmse"] for r in results),
        "max_seconds": max(r["seconds"] for r in results),
    }
    if args.json:
        print(json.dumps({"results": results, **summary}))
    else:
        print(
            f"beats naive on {summary['beats_naive']}/{summary['buildings']}; median CV(RMSE) combined "
            f"{100 * summary['median_cv_rmse']:.2f}%, prophet {100 * summary['median_prophet_cv_rmse']:.2f}%, "
            f"naive {100 * summary['median_naive_cv_rmse']:.2f}%; slowest building {summary['max_seconds']} s"
        )


if __name__ == "__main__":
    main()
