"""Forecast accuracy: MAPE, CV(RMSE), NMBE, MASE against seasonal naive, and the ASHRAE Guideline 14 gate."""

from __future__ import annotations

from typing import Any

import numpy as np


def metrics(actual: Any, predicted: Any, naive: Any = None) -> dict[str, float | None]:
    """MAPE, CV(RMSE), NMBE (ASHRAE sign: actual minus predicted) and MASE; fractions, not percent.

    Hours without an actual (or without a prediction) are not scored.
    """
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    mask = ~np.isnan(actual) & ~np.isnan(predicted)
    if naive is not None:
        naive = np.asarray(naive, dtype=float)
        mask &= ~np.isnan(naive)
    result: dict[str, float | None] = {"n": float(mask.sum())}
    if mask.sum() == 0:
        return result | {"cv_rmse": None, "nmbe": None, "mape": None, "mase": None, "naive_cv_rmse": None}
    a, p = actual[mask], predicted[mask]
    mean = float(a.mean())
    error = a - p
    rmse = float(np.sqrt(np.mean(error**2)))
    positive = a > 0
    result["cv_rmse"] = rmse / mean if mean > 0 else None
    result["nmbe"] = float(error.sum() / (len(a) * mean)) if mean > 0 else None
    result["mape"] = float(np.mean(np.abs(error[positive]) / a[positive])) if positive.any() else None
    result["mase"] = None
    result["naive_cv_rmse"] = None
    if naive is not None:
        n = naive[mask]
        naive_mae = float(np.mean(np.abs(a - n)))
        result["mase"] = float(np.mean(np.abs(error))) / naive_mae if naive_mae > 0 else None
        result["naive_cv_rmse"] = float(np.sqrt(np.mean((a - n) ** 2))) / mean if mean > 0 else None
    return result


def ashrae_fit(scores: dict[str, float | None]) -> bool:
    """ASHRAE Guideline 14 hourly calibration: CV(RMSE) at most 30%, |NMBE| at most 10%."""
    cv, nmbe = scores.get("cv_rmse"), scores.get("nmbe")
    return cv is not None and nmbe is not None and cv <= 0.30 and abs(nmbe) <= 0.10
