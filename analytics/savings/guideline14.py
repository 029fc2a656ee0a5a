"""ASHRAE Guideline 14's statistics of a savings baseline: CV(RMSE), NMBE, the fractional savings
uncertainty and the whole-building limits a baseline must meet to measure savings with."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

CONFIDENCE = 0.90
# Guideline 14's whole-building limits on the baseline (guideline14_problems).
CV_LIMIT = 0.20
CV_LIMIT_YEAR = 0.25
NMBE_LIMIT = 0.05


def cv_rmse(actual: np.ndarray, predicted: np.ndarray, *, parameters: int) -> float:
    """ASHRAE Guideline 14: sqrt(sum((y - yhat)^2) / (n - p)) / mean(y)."""
    n = len(actual)
    return float(math.sqrt(np.sum((actual - predicted) ** 2) / (n - parameters)) / np.mean(actual))


def nmbe(actual: np.ndarray, predicted: np.ndarray, *, parameters: int) -> float:
    """ASHRAE Guideline 14: sum(y - yhat) / ((n - p) * mean(y))."""
    n = len(actual)
    return float(np.sum(actual - predicted) / ((n - parameters) * np.mean(actual)))


def lag1_autocorrelation(residuals: np.ndarray) -> float:
    if len(residuals) < 3:
        return 0.0
    centred = residuals - residuals.mean()
    denominator = float(np.sum(centred**2))
    if denominator == 0:
        return 0.0
    return float(np.sum(centred[1:] * centred[:-1]) / denominator)


def fraction_uncertainty(
    *, cv: float, n: int, m: int, p: int, autocorrelation: float, confidence: float = CONFIDENCE
) -> float:
    """Half-width of the savings fraction's interval (ASHRAE Guideline 14, Annex B, Reddy and Claridge):

    t * 1.26 * CV * sqrt((n / n') * (1 + 2 / n) / m), with n' = n (1 - rho) / (1 + rho) the baseline's
    effective number of independent days (rho: lag-1 autocorrelation of its residuals, at least 0).
    This is Guideline 14's delta-E/E times the fraction F, so it does not depend on F.
    """
    rho = min(max(autocorrelation, 0.0), 0.95)
    effective = n * (1 - rho) / (1 + rho)
    dof = max(effective - p, 1.0)
    t = float(stats.t.ppf(0.5 + confidence / 2, dof))
    return t * 1.26 * cv * math.sqrt((n / effective) * (1 + 2 / n) / m)


def guideline14_problems(*, cv: float, nmbe_value: float, reporting_days: int) -> list[str]:
    """The Guideline 14 limits a baseline misses, in words (empty: it is fit to measure savings with).

    CV(RMSE) at most 20 % when under 12 months are reported, 25 % from 12 months (the whole-building
    limits); NMBE within ±NMBE_LIMIT over the baseline days (with recency weighting the fit is not
    unbiased by construction over the whole year: a larger bias means the building drifted in it)."""
    limit = CV_LIMIT_YEAR if reporting_days >= 365 else CV_LIMIT
    problems = []
    if not cv <= limit:
        problems.append(f"CV(RMSE) {100 * cv:.1f} % is above Guideline 14's {100 * limit:.0f} %")
    if not abs(nmbe_value) <= NMBE_LIMIT:
        problems.append(f"NMBE {100 * nmbe_value:+.1f} % is outside ±{100 * NMBE_LIMIT:.0f} %")
    return problems
