"""Condition features: top oil against its own load-and-weather fit, dissolved gas level and rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predictions.ml.failure_condition import CONDITION_FEATURES, condition_features, load_term

START = pd.Timestamp("2025-01-01", tz="UTC")
DAYS = 200


def _hourly(seed: int = 0) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.date_range(START, periods=DAYS * 24, freq="h")
    hour = index.hour.to_numpy()
    util = pd.Series(0.4 + 0.4 * np.sin(np.pi * hour / 24) + rng.normal(0, 0.08, len(index)), index=index)
    temp = pd.Series(15 + 8 * np.sin(2 * np.pi * (hour - 9) / 24) + rng.normal(0, 1, len(index)), index=index)
    return util, temp


def _readings(util: pd.Series, temp: pd.Series, *, extra: np.ndarray | None = None, seed: int = 1) -> pd.DataFrame:
    """A daily reading at 15:00 that follows the physics exactly (plus noise and an optional excess per day)."""
    rng = np.random.default_rng(seed)
    at = pd.date_range(START + pd.Timedelta(hours=15), periods=DAYS, freq="D")
    load = util.rolling(3, min_periods=1).mean().reindex(at).to_numpy()
    oil = 3.0 + temp.reindex(at).to_numpy() + 52.0 * load_term(load) + rng.normal(0, 0.5, DAYS)
    if extra is not None:
        oil = oil + extra
    gas = np.full(DAYS, 200.0) + np.arange(DAYS) * 0.0
    return pd.DataFrame({"top_oil_c": oil, "dissolved_gas_ppm": gas}, index=at)


def test_a_healthy_unit_has_no_excess_and_a_hot_one_shows_its_extra_degrees() -> None:
    util, temp = _hourly()
    dates = pd.DatetimeIndex([START + pd.Timedelta(days=d) for d in (150, 190)])
    healthy = condition_features(_readings(util, temp), util=util, temp=temp, dates=dates)
    assert list(healthy.columns) == CONDITION_FEATURES
    assert np.abs(healthy["top_oil_excess_7d"]).max() < 0.6
    extra = np.where(np.arange(DAYS) >= 180, 8.0, 0.0)  # the last 20 days run 8 °C hot
    hot = condition_features(_readings(util, temp, extra=extra), util=util, temp=temp, dates=dates)
    assert abs(hot["top_oil_excess_7d"].iloc[0]) < 0.6  # day 150: before it started
    assert hot["top_oil_excess_7d"].iloc[1] == pytest.approx(8.0, abs=0.8)


def test_nothing_on_or_after_the_snapshot_date_is_used() -> None:
    util, temp = _hourly()
    date = START + pd.Timedelta(days=150)
    extra = np.where(np.arange(DAYS) >= 150, 30.0, 0.0)  # a jump from the snapshot day on
    readings = _readings(util, temp, extra=extra)
    readings.loc[readings.index >= date, "dissolved_gas_ppm"] = 5000.0
    row = condition_features(readings, util=util, temp=temp, dates=pd.DatetimeIndex([date])).iloc[0]
    assert abs(row["top_oil_excess_7d"]) < 0.6
    assert row["dissolved_gas_ppm"] == pytest.approx(200.0)
    assert row["top_oil_max_7d"] < 75  # about 68 normally; the jump would make it 97


def test_gas_level_and_rate_read_the_trend() -> None:
    util, temp = _hourly()
    readings = _readings(util, temp)
    readings["dissolved_gas_ppm"] = 100.0 + 10.0 * np.arange(DAYS)  # 10 ppm a day
    row = condition_features(
        readings, util=util, temp=temp, dates=pd.DatetimeIndex([START + pd.Timedelta(days=100)])
    ).iloc[0]
    assert row["dissolved_gas_ppm"] == pytest.approx(100.0 + 10.0 * 96, abs=1)  # median of days 93-99
    assert row["gas_rise_per_day_30d"] == pytest.approx(10.0, abs=0.01)


def test_no_readings_or_too_few_give_missing_values_not_a_crash() -> None:
    util, temp = _hourly()
    dates = pd.DatetimeIndex([START + pd.Timedelta(days=100)])
    assert condition_features(None, util=util, temp=temp, dates=dates).isna().all().all()
    few = _readings(util, temp).iloc[:5]
    row = condition_features(few, util=util, temp=temp, dates=dates).iloc[0]
    assert np.isnan(row["top_oil_excess_7d"])  # five readings cannot fit a unit's thermal behaviour
    only_gas = _readings(util, temp).assign(top_oil_c=np.nan)
    row = condition_features(only_gas, util=util, temp=temp, dates=dates).iloc[0]
    assert np.isnan(row["top_oil_excess_7d"])
    assert row["dissolved_gas_ppm"] == pytest.approx(200.0)
