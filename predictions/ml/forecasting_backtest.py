"""Rolling-origin backtest of the demand forecaster (pure pandas; the command adds the database).

Every local midnight between `train_until` and `until` is a forecast origin; the model sees only
readings before each origin. It is refitted every `refit_days` on all history before the refit
(expanding window), which is as often as accuracy needs: the lag features carry the recent level,
so monthly refits score the same as daily ones at a thirtieth of the cost. Weather at the target
hour is the observed weather, standing in for a weather forecast.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from predictions.ml.forecasting import DemandForecaster, InsufficientHistory, SeriesInputs, metrics


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Prophet fits run in a cmdstan process)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass
class BacktestResult:
    status: str  # "ok" or "insufficient_history" / "no_test_data"
    detail: str
    scores: dict[str, Any]
    predictions: pd.DataFrame
    seconds: float


def backtest(
    inputs: SeriesInputs,
    *,
    train_until: pd.Timestamp,
    until: pd.Timestamp,
    horizon: int = 24,
    refit_days: int = 30,
) -> BacktestResult:
    """Day-ahead (or `horizon`-hour) rolling-origin backtest; scores only hours with an actual."""
    started = time.perf_counter()
    cpu_started = _cpu()
    frame = inputs.frame(until=until + pd.Timedelta(hours=horizon))
    local = pd.DatetimeIndex(frame.index).tz_convert(inputs.timezone)
    midnight = (local.hour == 0) & (frame.index >= train_until) & (frame.index < until)
    origins = np.flatnonzero(midnight)
    if len(origins) == 0:
        return BacktestResult("no_test_data", "no forecast origin in the test window", {}, pd.DataFrame(), 0.0)
    parts: list[pd.DataFrame] = []
    refit_hours = 24 * refit_days
    block_start = 0
    while block_start < len(origins):
        first = origins[block_start]
        block = origins[(origins >= first) & (origins < first + refit_hours)]
        model = DemandForecaster(horizon=horizon)
        try:
            model.train(inputs, until=frame.index[first], predict_until=frame.index[block[-1]])
        except InsufficientHistory as error:
            if not parts:
                return BacktestResult("insufficient_history", str(error), {}, pd.DataFrame(), 0.0)
            raise
        model._extend_prophet(inputs, model._daily(frame))
        parts.append(model.predict_frame(frame, block, horizon))
        block_start += len(block)
    predictions = pd.concat(parts, ignore_index=True)
    y = frame["load"]
    predictions["actual"] = y.reindex(predictions["target"]).to_numpy()
    predictions["naive"] = y.reindex(predictions["target"] - pd.Timedelta(days=7)).to_numpy()
    predictions = predictions[predictions["target"] < until]
    combined = metrics(predictions["actual"], predictions["yhat"], predictions["naive"])
    prophet = metrics(predictions["actual"], predictions["prophet"], predictions["naive"])
    scores: dict[str, Any] = {k: combined[k] for k in ("cv_rmse", "nmbe", "mape", "mase", "naive_cv_rmse")}
    scores |= {f"prophet_{k}": prophet[k] for k in ("cv_rmse", "nmbe", "mape", "mase")}
    naive_only = metrics(predictions["actual"], predictions["naive"])
    scores["naive_nmbe"] = naive_only["nmbe"]
    scores["hours_scored"] = int(combined["n"] or 0)
    scores["origins"] = len(origins)
    scores["refits"] = len(parts)
    seconds = time.perf_counter() - started
    scores["seconds"] = round(seconds, 2)
    # Wall time depends on what else the machine runs; CPU time is this backtest's own cost.
    scores["cpu_seconds"] = round(_cpu() - cpu_started, 2)
    if not scores["hours_scored"]:
        return BacktestResult("no_test_data", "no actual readings in the test window", scores, predictions, seconds)
    return BacktestResult("ok", "", scores, predictions, seconds)
