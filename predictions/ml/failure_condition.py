"""Condition features of a transformer: top oil against what its load and the weather explain, and gas in oil.

A healthy unit's top-oil temperature is the ambient plus a rise set by its load (IEEE C57.91:
rise ∝ ((K²R + 1)/(R + 1))^n, with K the per-unit load, R the loss ratio and n the oil exponent).
Each transformer's own coefficients are fitted by least squares on its readings from 120 to 21 days
before the snapshot, so the unit's rating, cooling and sensor offset need no configuration; the
excess is the mean residual of the last 7 days. Dissolved combustible gas (TDCG) is read as a level
(median of the last 7 days) and a rate (IEEE C57.104 judges both). All windows end before the
snapshot date: nothing after it is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CONDITION_FEATURES = ["top_oil_excess_7d", "top_oil_max_7d", "dissolved_gas_ppm", "gas_rise_per_day_30d"]
LOSS_RATIO = 5.0  # typical of distribution transformers; the per-unit fit absorbs the rest
OIL_EXPONENT = 0.8  # ONAN
FIT_DAYS = (120, 21)  # fit on readings from 120 to 21 days before the snapshot
EXCESS_DAYS = 7
MIN_FIT_READINGS = 20


def load_term(utilisation: np.ndarray) -> np.ndarray:
    k = np.clip(np.nan_to_num(utilisation, nan=0.0), 0.0, 3.0)
    return ((k**2 * LOSS_RATIO + 1) / (LOSS_RATIO + 1)) ** OIL_EXPONENT


def condition_features(
    condition: pd.DataFrame | None, *, util: pd.Series, temp: pd.Series, dates: pd.DatetimeIndex
) -> pd.DataFrame:
    """One row per snapshot date (midnight UTC), NaN where the readings cannot tell."""
    out = pd.DataFrame(np.nan, index=dates, columns=CONDITION_FEATURES)
    if condition is None or condition.empty:
        return out
    condition = condition.sort_index()
    grid = pd.date_range(
        min(pd.DatetimeIndex(condition.index).floor("D").min(), dates.min() - pd.Timedelta(days=FIT_DAYS[0] + 1)),
        dates.max(),
        freq="D",
    )
    day = pd.DatetimeIndex(condition.index).floor("D")
    oil = condition["top_oil_c"].astype(float)
    _top_oil_excess(out, oil=oil, day=day, util=util, temp=temp, grid=grid, dates=dates)
    daily_max = oil.groupby(day).max().reindex(grid)
    out["top_oil_max_7d"] = daily_max.rolling(EXCESS_DAYS, min_periods=1).max().shift(1).reindex(dates).to_numpy()
    gas = condition["dissolved_gas_ppm"].astype(float).groupby(day).median().reindex(grid)
    level = gas.rolling(EXCESS_DAYS, min_periods=2).median().shift(1)
    out["dissolved_gas_ppm"] = level.reindex(dates).to_numpy()
    out["gas_rise_per_day_30d"] = ((level - level.shift(30)) / 30).reindex(dates).to_numpy()
    return out


def _top_oil_excess(
    out: pd.DataFrame,
    *,
    oil: pd.Series,
    day: pd.DatetimeIndex,
    util: pd.Series,
    temp: pd.Series,
    grid: pd.DatetimeIndex,
    dates: pd.DatetimeIndex,
) -> None:
    """Windowed least squares from cumulative sums of the normal equations: one 3x3 solve per snapshot."""
    hour = pd.DatetimeIndex(oil.index).floor("h")
    # Oil heats over hours: the load that explains a reading is the mean of the three hours up to it.
    load = util.rolling(3, min_periods=1).mean().reindex(hour).to_numpy()
    ambient = temp.reindex(hour).to_numpy()
    if not np.isfinite(ambient).any():  # no weather for the site: fit on the load alone
        ambient = np.zeros(len(ambient))
    y = oil.to_numpy()
    ok = np.isfinite(y) & np.isfinite(ambient) & np.isfinite(load)
    if ok.sum() < MIN_FIT_READINGS:
        return
    x = np.column_stack([np.ones(ok.sum()), ambient[ok], load_term(load[ok])])
    y = y[ok]
    # Per day: X'X (9), X'y (3), sum x (3), sum y, n -> cumulative over the grid.
    parts = np.column_stack([(x[:, :, None] * x[:, None, :]).reshape(-1, 9), x * y[:, None], x, y, np.ones(len(y))])
    daily = pd.DataFrame(parts, index=day[ok]).groupby(level=0).sum().reindex(grid, fill_value=0.0)
    cumulative = np.vstack([np.zeros(parts.shape[1]), daily.to_numpy().cumsum(axis=0)])
    position = grid.get_indexer(dates)  # cumulative[i] sums the days before grid[i]
    valid = position >= 0

    def window(first: int, last: int) -> np.ndarray:  # sums over days [t - first, t - last)
        lo = np.clip(position - first, 0, None)
        hi = np.clip(position - last, 0, None)
        return cumulative[hi] - cumulative[lo]

    fit = window(*FIT_DAYS)
    recent = window(EXCESS_DAYS, 0)
    xtx = fit[:, :9].reshape(-1, 3, 3) + np.eye(3) * 1e-6
    xty = fit[:, 9:12]
    enough = valid & (fit[:, -1] >= MIN_FIT_READINGS) & (recent[:, -1] >= 1)
    excess = np.full(len(dates), np.nan)
    if enough.any():
        beta = np.linalg.solve(xtx[enough], xty[enough][:, :, None])[:, :, 0]
        predicted_sum = np.einsum("ij,ij->i", recent[enough, 12:15], beta)
        excess[enough] = (recent[enough, 15] - predicted_sum) / recent[enough, -1]
    out["top_oil_excess_7d"] = excess
