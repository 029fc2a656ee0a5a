"""What the demand forecaster reads: one series with its context on an hourly grid, and the feature
rows of its hourly boosters (pure pandas/numpy, no Django)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Calendar kinds of a day, from the names of the periods in `SeriesInputs.holidays`; any other name
# (a public holiday, say) is a holiday.
KIND_CODES = {"exams": 1.0, "vacation": 2.0}
HOLIDAY_CODE = 3.0

# The weather booster: calendar, weather and occupancy at the target hour, no lags. It is what a
# building's physics says the hour should use, and does not carry a spike or an odd week forward.
WEATHER_FEATURES = ["h", "hour", "dow", "weekend", "holiday", "kind", "temp", "temp3", "tday", "tmax", "occupancy"]
# The lag booster: the same plus the recent load and Prophet's daily expectation. It follows what a
# real building's history says (a new lab, a changed timetable) where physics alone falls short.
LAG_FEATURES = [
    *WEATHER_FEATURES,
    "lag_day",
    "lag_week",
    "profile7",
    "last",
    "mean24",
    "prophet_level",
    "prophet_ratio",
    "temp_delta",
]


@dataclass
class SeriesInputs:
    """What a forecaster sees: hourly load on a UTC grid (NaN = missing) and optional context."""

    load: pd.Series
    timezone: str = "UTC"
    temperature: pd.Series | None = None  # hourly °C, UTC index; future rows may be forecast weather
    occupancy: pd.Series | None = None  # hourly share of beds occupied (0..1), UTC index
    holidays: list[tuple[str, pd.Timestamp, pd.Timestamp]] = field(default_factory=list)  # (name, first, last day)

    def frame(self, *, until: pd.Timestamp | None = None) -> pd.DataFrame:
        """The inputs on one complete hourly UTC grid, extended to `until` for future rows."""
        load = self.load.astype(float)
        start = load.index.min()
        end = load.index.max() if until is None else max(load.index.max(), until)
        grid = pd.date_range(start, end, freq="h", tz="UTC")
        frame = pd.DataFrame(index=grid)
        frame["load"] = load.reindex(grid)
        frame["temp"] = self.temperature.reindex(grid).astype(float) if self.temperature is not None else np.nan
        frame["occupancy"] = self.occupancy.reindex(grid).astype(float) if self.occupancy is not None else np.nan
        local = grid.tz_convert(self.timezone)
        frame["hour"] = local.hour
        frame["dow"] = local.day_of_week
        frame["date"] = local.tz_localize(None).normalize()
        dates = frame["date"].to_numpy()
        kind = np.zeros(len(grid))
        for name, first, last in self.holidays:
            inside = (dates >= np.datetime64(pd.Timestamp(first))) & (dates <= np.datetime64(pd.Timestamp(last)))
            code = KIND_CODES.get(name, HOLIDAY_CODE)
            kind[inside & ((kind == 0) | (code == HOLIDAY_CODE))] = code  # a public holiday wins over a period
        frame["kind"] = kind
        frame["holiday"] = (kind > 0).astype(float)
        return weather_columns(frame)


def weather_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the 3-hour mean, the day's mean and the day's maximum of `temp` (local days)."""
    frame["temp3"] = frame["temp"].rolling(3, min_periods=1).mean()
    frame["tday"] = frame.groupby("date")["temp"].transform("mean")
    frame["tmax"] = frame.groupby("date")["temp"].transform("max")
    return frame


def temperature_climatology(frame: pd.DataFrame) -> dict[tuple[int, int], float]:
    """Mean temperature by (week of the year, local hour), from the rows that have one."""
    known = frame[frame["temp"].notna()]
    weeks = pd.DatetimeIndex(known["date"]).day_of_year // 7
    means = known.groupby([weeks, known["hour"]])["temp"].mean()
    return {(int(key[0]), int(key[1])): float(value) for key, value in means.items()}  # type: ignore[index]


def fill_temperature(frame: pd.DataFrame, climatology: dict[tuple[int, int], float]) -> pd.DataFrame:
    """Missing hours (no observation, no weather forecast) take the climatology of their week and hour."""
    missing = frame["temp"].isna().to_numpy()
    if not missing.any() or not climatology:
        return frame
    frame = frame.copy()
    weeks = (pd.DatetimeIndex(frame["date"]).day_of_year // 7)[missing]
    hours = frame["hour"].to_numpy()[missing]
    by_hour = pd.Series(climatology).groupby(level=1).mean().to_dict()
    fallback = float(np.mean(list(climatology.values())))
    values = [
        climatology.get((int(w), int(h)), by_hour.get(int(h), fallback)) for w, h in zip(weeks, hours, strict=True)
    ]
    temp = frame["temp"].to_numpy(dtype=float).copy()
    temp[missing] = values
    frame["temp"] = temp
    return weather_columns(frame)


def _nanmean_rows(stack: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns are NaN, as intended
        return np.nanmean(stack, axis=0)


def window_mean(values: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """Mean of the non-missing values in [end - width, end) for each end."""
    present = ~np.isnan(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(present, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(present)])
    lo = np.clip(ends - width, 0, len(values))
    hi = np.clip(ends, 0, len(values))
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / np.maximum(n, 1), np.nan)


def hourly_features(
    frame: pd.DataFrame, origins: np.ndarray, horizon: int, *, prophet_daily: pd.Series, level: float
) -> pd.DataFrame:
    """One row per (origin, hour ahead) from what is known at the origin; loads relative to `level`.

    Columns: every feature of both boosters, plus `_target` and `_origin` (positions in `frame`).
    Lags of a multi-day horizon reach back whole days so that they are always known at the origin.
    """
    y = frame["load"].to_numpy(dtype=float)
    n = len(y)
    h = np.tile(np.arange(1, horizon + 1), len(origins))
    o = np.repeat(origins, horizon)
    t = o + h - 1
    keep = t < n
    h, o, t = h[keep], o[keep], t[keep]
    days_back = np.ceil(h / 24).astype(int)

    def at(pos: np.ndarray) -> np.ndarray:
        valid = (pos >= 0) & (pos < n)
        return np.where(valid, y[np.clip(pos, 0, n - 1)], np.nan)

    prophet = prophet_daily.reindex(pd.DatetimeIndex(frame["date"].to_numpy())).to_numpy(dtype=float)
    prophet_recent = window_mean(prophet, o, 168)
    temp = frame["temp"].to_numpy(dtype=float)
    dow = frame["dow"].to_numpy()[t]
    with np.errstate(invalid="ignore", divide="ignore"):
        features = pd.DataFrame(
            {
                "h": h,
                "hour": frame["hour"].to_numpy()[t],
                "dow": dow,
                "weekend": (dow >= 5).astype(float),
                "holiday": frame["holiday"].to_numpy()[t],
                "kind": frame["kind"].to_numpy()[t],
                "temp": temp[t],
                "temp3": frame["temp3"].to_numpy(dtype=float)[t],
                "tday": frame["tday"].to_numpy(dtype=float)[t],
                "tmax": frame["tmax"].to_numpy(dtype=float)[t],
                "occupancy": frame["occupancy"].to_numpy(dtype=float)[t],
                "lag_day": at(t - 24 * days_back) / level,
                "lag_week": at(t - 168 * np.ceil(h / 168).astype(int)) / level,
                "profile7": _nanmean_rows(np.stack([at(t - 24 * (days_back + k)) for k in range(7)])) / level,
                "last": at(o - 1) / level,
                "mean24": window_mean(y, o, 24) / level,
                "prophet_level": prophet[t] / level,
                "prophet_ratio": prophet[t] / prophet_recent,
                "temp_delta": temp[t] - window_mean(temp, o, 24),
            }
        )
    features["_target"] = t
    features["_origin"] = o
    return features
