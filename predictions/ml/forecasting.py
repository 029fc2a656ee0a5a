"""Demand forecasting: Prophet for trend, seasonality, holidays and weather, plus a gradient-boosted
correction on recent lags.

Prophet is fitted on daily energy (local days), which is what it is good at and keeps the fit well
under a second: trend, weekly and yearly seasonality, academic calendar as holidays, daily mean
temperature and occupancy as regressors. An XGBoost model then forecasts each hour as a multiple of
the load level at the forecast origin, from features known at the origin only: the same hour on the
latest available day and a week before, the mean of that hour over the last 7 days, the last hour,
the last day's mean, Prophet's daily expectation for the target day, calendar and temperature.

"Prophet alone" (reported side by side) is the daily Prophet forecast spread over the hours with
the training window's mean hourly shape for weekdays and weekends.

Pure pandas/numpy: no Django here, so the class is easy to test and to run from benchmarks.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from predictions.ml.forecast_metrics import ashrae_fit, metrics

__all__ = [
    "FAMILY",
    "FORMAT_VERSION",
    "DemandForecaster",
    "InsufficientHistory",
    "SeriesInputs",
    "ashrae_fit",
    "metrics",
]

FAMILY = "forecast"
FORMAT_VERSION = 1
GBM_PARAMS: dict[str, Any] = {
    "objective": "reg:squarederror",
    "max_depth": 6,
    "learning_rate": 0.06,
    "subsample": 0.8,
    "colsample_bytree": 0.9,
    "min_child_weight": 5,
    "tree_method": "hist",
    "nthread": 1,
    "seed": 0,
}
GBM_ROUNDS = 250
HEATING_BASE = 16.0  # °C below which buildings heat
COOLING_BASE = 22.0  # °C above which they cool
FEATURES = [
    "h",
    "hour",
    "dow",
    "weekend",
    "holiday",
    "lag_day",
    "lag_week",
    "profile7",
    "last",
    "mean24",
    "prophet_level",
    "prophet_ratio",
    "temp",
    "temp_delta",
    "occupancy",
]


def _quiet() -> None:
    # Prophet sets its own logger levels on import; ours must come after.
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.ERROR)


class InsufficientHistory(ValueError):
    """Not enough usable history to train (no data, too short, or nothing but zeros)."""


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
        holiday_days: set[pd.Timestamp] = set()
        for _name, first, last in self.holidays:
            holiday_days.update(pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D"))
        frame["holiday"] = frame["date"].isin(holiday_days).astype(float)
        return frame


def _nanmean_rows(stack: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns are NaN, as intended
        return np.nanmean(stack, axis=0)


def _window_mean(values: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """Mean of the non-missing values in [end - width, end) for each end."""
    present = ~np.isnan(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(present, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(present)])
    lo = np.clip(ends - width, 0, len(values))
    hi = np.clip(ends, 0, len(values))
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / np.maximum(n, 1), np.nan)


class DemandForecaster:
    """Prophet (daily) + XGBoost (hourly shape from lags) for one series."""

    FORMAT_VERSION = FORMAT_VERSION

    def __init__(
        self,
        *,
        horizon: int = 72,
        gbm_window_days: int = 365,
        origin_hours: tuple[int, ...] = (0,),
        anchor: str = "prophet",
    ):
        self.horizon = horizon
        self.anchor = anchor
        self.gbm_window_days = gbm_window_days
        self.origin_hours = origin_hours
        self.timezone = "UTC"
        self.booster: Any = None
        self.prophet_daily: pd.Series = pd.Series(dtype=float)  # expected kWh per hour, by local date
        self.prophet_model: Any = None
        self.hour_shape: dict[tuple[bool, int], float] = {}
        self.residual_quantiles: dict[int, tuple[float, float]] = {}
        self.daily_quantiles: tuple[float, float] = (-0.1, 0.1)
        self.climatology: dict[int, float] = {}
        self.trained_until: pd.Timestamp | None = None
        self.train_report: dict[str, Any] = {}

    # -- Prophet on daily energy -------------------------------------------------------------------
    def _daily(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.assign(
            heating=np.maximum(HEATING_BASE - frame["temp"], 0.0), cooling=np.maximum(frame["temp"] - COOLING_BASE, 0.0)
        )
        grouped = frame.groupby("date")
        daily = pd.DataFrame(
            {
                "hours": grouped["load"].count(),
                "slots": grouped["load"].size(),
                "y": grouped["load"].mean(),  # kWh per hour, robust to a few missing hours
                "temp": grouped["temp"].mean(),
                # Degree-hours from hourly temperature: heating and cooling follow the hour, not the day's mean.
                "heating": grouped["heating"].mean(),
                "cooling": grouped["cooling"].mean(),
                "occupancy": grouped["occupancy"].mean(),
                "holiday": grouped["holiday"].max(),
            }
        )
        return daily

    def _fill_temp(self, daily: pd.DataFrame) -> pd.Series:
        temp = daily["temp"].copy()
        missing = temp.isna()
        if missing.any():
            doy = pd.Series(pd.DatetimeIndex(daily.index).day_of_year, index=daily.index)
            clim = doy.map(lambda d: self.climatology.get(int(d) // 7)) if self.climatology else pd.Series(np.nan)
            temp[missing] = clim[missing]
            temp = temp.fillna(float(np.nanmean(list(self.climatology.values()))) if self.climatology else 10.0)
        return temp

    def _degree_hours(self, daily: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Daily mean cooling and heating degree-hours; from the (climatological) daily mean where missing."""
        temp = self._fill_temp(daily)
        cooling = daily["cooling"].fillna((temp - COOLING_BASE).clip(lower=0.0))
        heating = daily["heating"].fillna((HEATING_BASE - temp).clip(lower=0.0))
        return cooling.to_numpy(dtype=float), heating.to_numpy(dtype=float)

    def _fit_prophet(self, inputs: SeriesInputs, daily: pd.DataFrame, until: pd.Timestamp) -> None:
        from prophet import Prophet

        _quiet()
        train = daily[(daily["hours"] >= 0.8 * daily["slots"]) & daily["y"].notna()]
        train = train[train.index <= until]
        if len(train) < 14:
            raise InsufficientHistory(f"{len(train)} complete days of history; at least 14 are needed")
        if float(train["y"].std()) == 0.0 and float(train["y"].mean()) == 0.0:
            raise InsufficientHistory("the history is all zeros")
        temps = train["temp"].dropna()
        weeks = pd.DatetimeIndex(temps.index).day_of_year // 7
        self.climatology = {int(str(k)): float(v) for k, v in temps.groupby(weeks).mean().items()}
        use_temp = temps.count() >= 0.8 * len(train) and float(temps.std()) > 0
        use_occ = train["occupancy"].notna().mean() >= 0.8 and float(train["occupancy"].std()) > 0
        span_days = (train.index.max() - train.index.min()).days
        model = Prophet(
            uncertainty_samples=0,
            weekly_seasonality=True,
            daily_seasonality=False,
            # One year cannot separate a yearly cycle from the calendar and weather: it wraps badly at the
            # ends (measured: -60% in the first weeks after training). Weather regressors carry the season.
            yearly_seasonality=span_days >= 700,
            changepoint_prior_scale=0.05,
            holidays=self._holiday_frame(inputs) if inputs.holidays else None,
        )
        fit_frame = pd.DataFrame({"ds": train.index, "y": train["y"].to_numpy()})
        if use_temp:
            model.add_regressor("temp")
            model.add_regressor("cooling")
            model.add_regressor("heating")
            fit_frame["temp"] = self._fill_temp(train).to_numpy()
            fit_frame["cooling"], fit_frame["heating"] = self._degree_hours(train)
        if use_occ:
            model.add_regressor("occupancy")
            fit_frame["occupancy"] = train["occupancy"].fillna(train["occupancy"].mean()).to_numpy()
        model.fit(fit_frame)
        future = pd.DataFrame({"ds": daily.index})
        if use_temp:
            future["temp"] = self._fill_temp(daily).to_numpy()
            future["cooling"], future["heating"] = self._degree_hours(daily)
        if use_occ:
            future["occupancy"] = daily["occupancy"].ffill().fillna(train["occupancy"].mean()).to_numpy()
        predicted = model.predict(future)
        self.prophet_daily = pd.Series(
            np.maximum(predicted["yhat"].to_numpy(), 0.0), index=pd.DatetimeIndex(daily.index)
        )
        self.prophet_model = model
        self._prophet_regressors = (use_temp, use_occ)
        insample = self.prophet_daily.reindex(train.index)
        rel = ((train["y"] - insample) / insample.replace(0, np.nan)).dropna()
        if len(rel) >= 10:
            self.daily_quantiles = (float(rel.quantile(0.05)), float(rel.quantile(0.95)))

    @staticmethod
    def _holiday_frame(inputs: SeriesInputs) -> pd.DataFrame:
        rows = []
        for name, first, last in inputs.holidays:
            for day in pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D"):
                rows.append({"holiday": name, "ds": day, "lower_window": 0, "upper_window": 0})
        return pd.DataFrame(rows)

    def _extend_prophet(self, inputs: SeriesInputs, daily: pd.DataFrame) -> None:
        """Prophet predictions for days beyond what was computed at training time."""
        missing = daily.index.difference(self.prophet_daily.index)
        if len(missing) == 0 or self.prophet_model is None:
            return
        use_temp, use_occ = getattr(self, "_prophet_regressors", (False, False))
        part = daily.loc[missing]
        future = pd.DataFrame({"ds": missing})
        if use_temp:
            future["temp"] = self._fill_temp(part).to_numpy()
            future["cooling"], future["heating"] = self._degree_hours(part)
        if use_occ:
            future["occupancy"] = part["occupancy"].fillna(0.8).to_numpy()
        predicted = self.prophet_model.predict(future)
        extra = pd.Series(np.maximum(predicted["yhat"].to_numpy(), 0.0), index=pd.DatetimeIndex(missing))
        self.prophet_daily = pd.concat([self.prophet_daily, extra]).sort_index()

    # -- hourly features ---------------------------------------------------------------------------
    def _features(self, frame: pd.DataFrame, origins: np.ndarray, horizon: int) -> tuple[pd.DataFrame, np.ndarray]:
        """Feature rows for every (origin, hour ahead); returns features and target positions."""
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

        scale = _window_mean(y, o, 168)
        lag_day = at(t - 24 * days_back)
        lag_week = at(t - 168 * np.ceil(h / 168).astype(int))
        profile7 = _nanmean_rows(np.stack([at(t - 24 * (days_back + k)) for k in range(7)]))
        last = at(o - 1)
        mean24 = _window_mean(y, o, 24)
        dates = frame["date"].to_numpy()
        prophet = self.prophet_daily.reindex(pd.DatetimeIndex(dates)).to_numpy(dtype=float)
        prophet_recent = _window_mean(prophet, o, 168)
        temp = frame["temp"].to_numpy(dtype=float)
        temp_recent = _window_mean(temp, o, 24)
        with np.errstate(invalid="ignore", divide="ignore"):
            features = pd.DataFrame(
                {
                    "h": h,
                    "hour": frame["hour"].to_numpy()[t],
                    "dow": frame["dow"].to_numpy()[t],
                    "weekend": (frame["dow"].to_numpy()[t] >= 5).astype(float),
                    "holiday": frame["holiday"].to_numpy()[t],
                    "lag_day": lag_day / scale,
                    "lag_week": lag_week / scale,
                    "profile7": profile7 / scale,
                    "last": last / scale,
                    "mean24": mean24 / scale,
                    "prophet_level": prophet[t] / scale,
                    "prophet_ratio": prophet[t] / prophet_recent,
                    "temp": temp[t],
                    "temp_delta": temp[t] - temp_recent,
                    "occupancy": frame["occupancy"].to_numpy(dtype=float)[t],
                }
            )
        features["_scale"] = scale
        # The GBM learns the hour as a multiple of the recent level carried forward by Prophet's view of
        # the target day (weather, weekday, holidays): trees cannot extrapolate to a colder day than any
        # they were trained on, Prophet's linear regressors can.
        anchor = np.clip(np.nan_to_num(prophet[t] / prophet_recent, nan=1.0), 0.5, 2.0)
        features["_base"] = scale * (anchor if self.anchor == "prophet" else 1.0)
        features["_target"] = t
        features["_origin"] = o
        return features, t

    def _origins(self, frame: pd.DataFrame, start: int, end: int) -> np.ndarray:
        positions = np.arange(max(start, 168), end)
        hours = frame["hour"].to_numpy()[positions]
        return positions[np.isin(hours, self.origin_hours)]

    # -- public API --------------------------------------------------------------------------------
    def train(
        self, inputs: SeriesInputs, *, until: pd.Timestamp | None = None, predict_until: pd.Timestamp | None = None
    ) -> dict[str, Any]:
        """Fit on data strictly before `until` (default: all); precompute Prophet up to `predict_until`."""
        import xgboost as xgb

        load = inputs.load.dropna()
        if until is not None:
            load = load[load.index < until]
        if load.empty:
            raise InsufficientHistory("no readings")
        until = until if until is not None else load.index.max() + pd.Timedelta(hours=1)
        horizon_end = (predict_until or until) + pd.Timedelta(days=32)
        frame = inputs.frame(until=horizon_end)
        self.timezone = inputs.timezone
        cutoff = int(frame.index.searchsorted(until))
        history = frame.iloc[:cutoff].copy()
        if history["load"].count() < 24 * 14:
            raise InsufficientHistory(f"{int(history['load'].count())} hours of history; at least 336 are needed")
        daily = self._daily(frame)
        last_day = pd.Timestamp(until.tz_convert(inputs.timezone).date()) - pd.Timedelta(days=1)
        self._fit_prophet(inputs, self._daily(history).reindex(daily.index).fillna({"hours": 0}), last_day)
        # Prophet was given the history only; its predictions cover every day of the grid.
        # Prophet alone spreads its day over the hours with the recent shape (the last 8 weeks): a shape
        # averaged over a year mixes terms, vacations and seasons.
        recent = history.iloc[-24 * 56 :].assign(weekend=history["dow"].iloc[-24 * 56 :] >= 5)
        shape = recent.groupby(["weekend", "hour"])["load"].mean()
        overall = recent.groupby("weekend")["load"].mean()
        self.hour_shape = {}
        for key, value in shape.to_dict().items():
            is_weekend, hour = bool(key[0]), int(key[1])  # type: ignore[index]
            level = float(overall[is_weekend])
            self.hour_shape[(is_weekend, hour)] = float(value) / level if level > 0 else 1.0
        start = max(0, cutoff - 24 * self.gbm_window_days)
        origins = self._origins(frame, start, cutoff - self.horizon + 1)
        features, targets = self._features(frame, origins, self.horizon)
        y = frame["load"].to_numpy(dtype=float)[targets] / features["_base"].to_numpy()
        ok = np.isfinite(y) & np.isfinite(features["_base"].to_numpy()) & (features["_base"].to_numpy() > 0)
        features, y = features[ok], y[ok]
        if len(y) < 24 * 7:
            raise InsufficientHistory("too few complete hours after the first week to learn the hourly shape")
        split = int(len(y) * 0.85)
        booster = xgb.train(GBM_PARAMS, xgb.DMatrix(features[FEATURES].iloc[:split], label=y[:split]), GBM_ROUNDS)
        held = booster.predict(xgb.DMatrix(features[FEATURES].iloc[split:]))
        residual = y[split:] - held
        buckets = (features["h"].to_numpy()[split:] - 1) // 24
        self.residual_quantiles = {}
        for bucket in range(math.ceil(self.horizon / 24)):
            r = residual[buckets == bucket]
            r = r if len(r) >= 20 else residual
            self.residual_quantiles[bucket] = (float(np.quantile(r, 0.05)), float(np.quantile(r, 0.95)))
        self.booster = xgb.train(GBM_PARAMS, xgb.DMatrix(features[FEATURES], label=y), GBM_ROUNDS)
        self.trained_until = until
        self.train_report = {"rows": len(y), "days": int(history["load"].count() // 24)}
        return self.train_report

    def predict_frame(self, frame: pd.DataFrame, origins: np.ndarray, horizon: int) -> pd.DataFrame:
        """Forecasts for many origins at once (positions in `frame`); used by backtests."""
        import xgboost as xgb

        features, targets = self._features(frame, origins, horizon)
        scale = features["_base"].to_numpy()
        ratio = self.booster.predict(xgb.DMatrix(features[FEATURES]))
        yhat = np.maximum(ratio * scale, 0.0)
        buckets = np.minimum((features["h"].to_numpy() - 1) // 24, max(self.residual_quantiles, default=0))
        low = np.array([self.residual_quantiles.get(int(b), (0.0, 0.0))[0] for b in range(buckets.max() + 1)])
        high = np.array([self.residual_quantiles.get(int(b), (0.0, 0.0))[1] for b in range(buckets.max() + 1)])
        dates = pd.DatetimeIndex(frame["date"].to_numpy()[targets])
        weekend = frame["dow"].to_numpy()[targets] >= 5
        hours = frame["hour"].to_numpy()[targets]
        shape = np.array([self.hour_shape.get((bool(w), int(hr)), 1.0) for w, hr in zip(weekend, hours, strict=True)])
        prophet = self.prophet_daily.reindex(dates).to_numpy(dtype=float) * shape
        return pd.DataFrame(
            {
                "origin": frame.index[features["_origin"].to_numpy()],
                "target": frame.index[targets],
                "h": features["h"].to_numpy(),
                "yhat": yhat,
                "lower": np.maximum(yhat + low[buckets] * scale, 0.0),
                "upper": np.maximum(yhat + high[buckets] * scale, 0.0),
                "prophet": prophet,
            }
        )

    def predict(self, inputs: SeriesInputs, *, origin: pd.Timestamp, horizon: int | None = None) -> pd.DataFrame:
        """Hourly forecasts for the `horizon` hours starting at `origin` (data before it only)."""
        horizon = horizon or self.horizon
        if self.booster is None:
            raise InsufficientHistory("the model is not trained")
        load = inputs.load[inputs.load.index < origin]
        window = SeriesInputs(
            load=load[load.index >= origin - pd.Timedelta(days=9)],
            timezone=inputs.timezone,
            temperature=inputs.temperature,
            occupancy=inputs.occupancy,
            holidays=inputs.holidays,
        )
        if window.load.dropna().empty:
            raise InsufficientHistory("no readings in the 9 days before the origin")
        window.load = window.load.reindex(
            pd.date_range(origin - pd.Timedelta(days=9), origin - pd.Timedelta(hours=1), freq="h", tz="UTC")
        )
        frame = window.frame(until=origin + pd.Timedelta(hours=horizon))
        self._extend_prophet(inputs, self._daily(frame))
        position = int(frame.index.searchsorted(origin))
        return self.predict_frame(frame, np.array([position]), horizon).drop(columns=["origin"])

    def predict_daily(self, inputs: SeriesInputs, *, origin: pd.Timestamp, days: int = 30) -> pd.DataFrame:
        """Daily energy (kWh per local day) for the `days` days after the origin's local day."""
        tz = inputs.timezone
        first = pd.Timestamp(origin.tz_convert(tz).date()) + pd.Timedelta(days=1)
        dates = pd.date_range(first, periods=days, freq="D")
        end = (dates[-1] + pd.Timedelta(days=2)).tz_localize(tz).tz_convert("UTC")
        frame = inputs.frame(until=end)
        daily = self._daily(frame)
        self._extend_prophet(inputs, daily)
        prophet = self.prophet_daily.reindex(dates).to_numpy(dtype=float)
        # A damped level correction: how far the last week ran above or below Prophet's expectation.
        recent = daily[(daily.index < first) & (daily.index >= first - pd.Timedelta(days=7))]
        recent = recent[recent["hours"] >= 0.8 * recent["slots"]]
        expected = self.prophet_daily.reindex(recent.index)
        ratio = float(recent["y"].sum() / expected.sum()) if len(recent) and expected.sum() > 0 else 1.0
        ratio = min(max(ratio, 0.5), 2.0)
        damping = np.exp(-np.arange(1, days + 1) / 10.0)
        factor = 1 + (ratio - 1) * damping
        hours = np.array([_hours_in_local_day(d, tz) for d in dates])
        yhat = prophet * factor * hours
        low, high = self.daily_quantiles
        return pd.DataFrame(
            {"day": dates.date, "yhat": yhat, "lower": np.maximum(yhat * (1 + low), 0), "upper": yhat * (1 + high)}
        )

    def save(self, name: str) -> str:
        from predictions.ml.artifacts import artifact_write

        payload = {k: v for k, v in self.__dict__.items()}
        return str(artifact_write(name=name, family=FAMILY, format_version=self.FORMAT_VERSION, payload=payload))

    @classmethod
    def load(cls, name: str) -> DemandForecaster:
        from predictions.ml.artifacts import artifact_read

        payload = artifact_read(name=name, family=FAMILY, format_version=cls.FORMAT_VERSION)
        model = cls()
        model.__dict__.update(payload)
        return model


def _hours_in_local_day(day: pd.Timestamp, tz: str) -> float:
    start = pd.Timestamp(day).tz_localize(tz)
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(tz)
    return (end - start).total_seconds() / 3600
