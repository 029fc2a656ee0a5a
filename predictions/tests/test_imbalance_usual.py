"""A main meter's usual load beyond its rooms is learnt from days with about as many residents."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.detection.imbalance import usual_common

BEDS = 40


def _hostel() -> tuple[pd.Series, np.ndarray]:
    """Fourteen vacation days (4 residents, 1 kW of common load by day), a half-full day, then six days of term."""
    hours = pd.date_range("2025-09-01", periods=21 * 24, freq="1h", tz="Europe/Madrid").tz_convert("UTC")
    day = np.arange(len(hours)) // 24
    occupants = np.where(day < 14, 4.0, np.where(day == 14, 20.0, 36.0))
    awake = (hours.tz_convert("Europe/Madrid").hour >= 7) & (hours.tz_convert("Europe/Madrid").hour < 23)
    common = 0.6 + awake * (0.4 + 1.0 * (occupants / BEDS))  # kitchens and laundries follow the residents
    rng = np.random.default_rng(1)
    return pd.Series(common + rng.normal(0, 0.03, len(hours)), index=hours), occupants


def test_term_days_are_compared_with_term_days_and_vacation_days_with_vacation_days() -> None:
    common, occupants = _hostel()
    usual = usual_common(common=common, tz="Europe/Madrid", occupants=occupants, beds=BEDS)
    day = np.arange(len(common)) // 24
    residual = common.to_numpy() - usual
    assert np.nanmax(np.abs(residual[day < 14])) < 0.15
    assert np.nanmax(np.abs(residual[day >= 15])) < 0.15
    # Compared with every day alike, the first week of term would read as ~0.8 kW no room meter sees.
    hod = pd.DatetimeIndex(common.index).tz_convert("Europe/Madrid").hour
    naive = common.to_numpy() - common.groupby(hod).median().reindex(hod).to_numpy()
    assert np.max(naive[day >= 15]) > 0.6


def test_a_day_with_too_few_days_like_it_is_not_judged() -> None:
    common, occupants = _hostel()
    usual = usual_common(common=common, tz="Europe/Madrid", occupants=occupants, beds=BEDS)
    day = np.arange(len(common)) // 24
    assert np.isnan(usual[day == 14]).all()  # the one half-full day: nothing like it
    assert np.isfinite(usual[day != 14]).all()


def test_without_occupancy_every_day_is_comparable() -> None:
    common, _ = _hostel()
    usual = usual_common(common=common, tz="UTC", occupants=None, beds=BEDS)
    assert np.isfinite(usual).all()
