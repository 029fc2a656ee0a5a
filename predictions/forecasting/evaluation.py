"""Campus-wide forecast evaluation: day-ahead backtests of every hostel and the site, from rollups."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import numpy as np
import pandas as pd

from meters.models import Meter
from meters.selectors.rollups import rollup_hour_latest
from predictions.forecasting.series import subject_inputs, subjects_all
from predictions.ml.forecasting import metrics
from predictions.ml.forecasting_backtest import backtest


def forecasts_evaluate(*, test_days: int = 28, end: dt.datetime | None = None, refit_days: int = 14) -> dict[str, Any]:
    """Hostel hourly day-ahead CV(RMSE)/NMBE and site daily MAPE over the last `test_days` of data."""
    if end is None:
        latest = rollup_hour_latest(meters=Meter.objects.all())
        if latest is None:
            return {"status": "no_data"}
        end = latest.replace(hour=0, minute=0, second=0, microsecond=0)
    train_until = end - dt.timedelta(days=test_days)
    hostels: dict[str, Any] = {}
    site: dict[str, Any] = {}
    for subject in subjects_all():
        if subject.kind not in ("hostel", "site"):
            continue
        inputs = subject_inputs(subject=subject, start=end - dt.timedelta(days=400), end=end)
        result = backtest(
            inputs, train_until=pd.Timestamp(train_until), until=pd.Timestamp(end), horizon=24, refit_days=refit_days
        )
        if result.status != "ok":
            (hostels if subject.kind == "hostel" else site)[subject.code] = {"status": result.status}
            continue
        if subject.kind == "hostel":
            hostels[subject.code] = {k: result.scores[k] for k in ("cv_rmse", "nmbe", "mape", "mase", "naive_cv_rmse")}
            hostels[subject.code]["prophet_cv_rmse"] = result.scores["prophet_cv_rmse"]
            continue
        frame = result.predictions.assign(day=result.predictions["origin"])
        daily = frame.groupby("day").agg(actual=("actual", "sum"), yhat=("yhat", "sum"), n=("actual", "count"))
        daily = daily[daily["n"] == 24]
        day_scores = metrics(daily["actual"].to_numpy(), daily["yhat"].to_numpy())
        site[subject.code] = {
            "daily_mape": day_scores["mape"],
            "hourly_cv_rmse": result.scores["cv_rmse"],
            "days": len(daily),
        }
    cvs = [h["cv_rmse"] for h in hostels.values() if h.get("cv_rmse") is not None]
    nmbes = [abs(h["nmbe"]) for h in hostels.values() if h.get("nmbe") is not None]
    mapes = [s["daily_mape"] for s in site.values() if s.get("daily_mape") is not None]
    summary = {
        "status": "ok",
        "train_until": train_until.isoformat(),
        "until": end.isoformat(),
        "hostels": hostels,
        "site": site,
        "hostel_cv_rmse_max": max(cvs) if cvs else None,
        "hostel_cv_rmse_median": statistics.median(cvs) if cvs else None,
        "hostel_abs_nmbe_max": max(nmbes) if nmbes else None,
        "site_daily_mape": float(np.mean(mapes)) if mapes else None,
    }
    summary["meets_targets"] = bool(cvs and mapes and max(cvs) <= 0.15 and max(nmbes) <= 0.05 and max(mapes) <= 0.05)
    return summary
