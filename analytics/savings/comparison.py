"""A comparison building as a baseline regressor (difference in differences): another untouched meter of
the same site, used only when it predicts the baseline's own last weeks better than the model without it.

What the building shares with its neighbours (the University's calendar, a cold snap the degree days miss,
a site-wide change of use) is then in the baseline, and only what is its own is counted as a saving. The
choice looks only at days before the intervention (docs/savings.md: how it was chosen and measured).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from analytics.savings.model import MIN_BASELINE_DAYS, SavingsInputs, baseline_fit, daily_frame

CHOICE_WEEKS = 8  # held-out weeks at the end of the baseline that judge a comparison
COVERAGE = 0.9  # a candidate must have readings on this share of the baseline and reporting days


def lastweeks_error(inputs: SavingsInputs, *, at: dt.date, weeks: int = CHOICE_WEEKS, **options: Any) -> float | None:
    """|savings fraction| the baseline model finds on the last `weeks` weeks before `at` when fitted on
    the 365 days before them (the truth there is 0); None when too few days allow it."""
    days = daily_frame(inputs).dropna(subset=["kwh"])
    if inputs.temperature is not None:
        days = days.dropna(subset=["temp"])
    if options.get("comparison"):
        days = days.dropna(subset=["comparison"])
    dates = np.asarray(pd.DatetimeIndex(days.index).date)
    origin = at - dt.timedelta(weeks=weeks)
    fit = days[(dates >= origin - dt.timedelta(days=365)) & (dates < origin)]
    held = days[(dates >= origin) & (dates < at)]
    if len(fit) < MIN_BASELINE_DAYS or len(held) < weeks * 7 // 2:
        return None
    predicted = float(baseline_fit(fit, **options).predict(held).sum())
    return abs((predicted - float(held["kwh"].sum())) / predicted) if predicted > 0 else None


def _covers(inputs: SavingsInputs, *, at: dt.date, until: dt.date | None) -> bool:
    days = daily_frame(inputs)
    dates = np.asarray(pd.DatetimeIndex(days.index).date)
    wanted = (dates >= at - dt.timedelta(days=365)) & (dates <= (until or dates.max()))
    have = days.loc[wanted, ["kwh", "comparison"]].dropna(subset=["kwh"])
    return not have.empty and float(have["comparison"].notna().mean()) >= COVERAGE


def with_comparison(
    inputs: SavingsInputs, candidates: dict[str, pd.Series], *, intervention: dt.date, until: dt.date | None = None
) -> SavingsInputs:
    """`inputs` with the candidate (label: hourly kWh) whose baseline predicts the last CHOICE_WEEKS weeks
    before the intervention best, when that beats the baseline without one; else `inputs` unchanged."""
    own = lastweeks_error(inputs, at=intervention)
    if own is None:
        return inputs
    best: tuple[float, SavingsInputs] | None = None
    for label, series in candidates.items():
        trial = dataclasses.replace(inputs, comparison=series, comparison_label=label)
        if not _covers(trial, at=intervention, until=until):
            continue
        error = lastweeks_error(trial, at=intervention, comparison=True)
        if error is not None and error < own and (best is None or error < best[0]):
            best = (error, trial)
    return best[1] if best else inputs
