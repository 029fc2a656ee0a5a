"""The baseline's temperature response holds in weather colder than any in its training window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly_features import weather_response_fit
from predictions.tests.weather_rooms import SHAPE, STEPS, consumption_alarms, room_rows

ROOMS = 8
HEATERS = (1, 2, 3)  # three rooms of eight heat: too few for the hostel's median to absorb it
TRAIN_DAYS, COLD_DAYS = 56, 7


def _temperature(days: int, rng: np.random.Generator) -> np.ndarray:
    """Mild weeks (11 to 29 C), then a week colder than any of them (-8 to 10 C)."""
    hour = np.arange(days * STEPS) / 4 % 24
    day = np.arange(days * STEPS) // STEPS
    mean = np.where(day < TRAIN_DAYS, 20.0, 1.0) + np.clip(rng.normal(0, 1.5, days), -3, 3)[day]
    return mean + 6.0 * np.cos(2 * np.pi * (hour - 16) / 24)


def _campus(*, excess_room: int | None = None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Eight occupied rooms of one hostel; heaters draw 0.1 kW per degree below 16 C."""
    rng = np.random.default_rng(7)
    days = TRAIN_DAYS + COLD_DAYS
    ts = pd.date_range("2025-09-01", periods=days * STEPS, freq="15min", tz="UTC")
    temp = _temperature(days, rng)
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    cold_from = ts[TRAIN_DAYS * STEPS]
    parts = []
    for room in range(ROOMS):
        kw = 0.06 + 0.25 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.1)
        if room in HEATERS:
            kw = kw + np.clip(0.1 * (16.0 - temp), 0.0, 2.5)
        kw = kw * rng.lognormal(0.0, 0.08, len(ts))
        if room == excess_room:  # a heater left on full in an empty afternoon: 1.5 kW for 12 hours
            at = TRAIN_DAYS * STEPS + 3 * STEPS + 40
            kw[at : at + 48] += 1.5
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=temp, kw=kw))
    return pd.concat(parts, ignore_index=True), cold_from


def test_heating_that_grows_as_it_gets_colder_than_the_training_window_is_not_flagged() -> None:
    frame, cold_from = _campus()
    assert frame.loc[frame["ts"] >= cold_from, "temp"].max() < frame.loc[frame["ts"] < cold_from, "temp"].min()
    assert consumption_alarms(frame, cold_from, rooms=ROOMS) == {}


def test_a_real_excess_on_a_heated_room_in_the_cold_is_still_flagged() -> None:
    frame, cold_from = _campus(excess_room=HEATERS[0])
    alarms = consumption_alarms(frame, cold_from, rooms=ROOMS)
    assert set(alarms) == {HEATERS[0] + 1}
    assert "sustained_excess" in alarms[HEATERS[0] + 1]


def test_a_meters_heating_slope_is_learnt_and_a_meter_without_heating_gets_none() -> None:
    rng = np.random.default_rng(3)
    n = 24 * 60
    hour = np.arange(n) % 24
    temp = 17 + 6 * np.cos(2 * np.pi * (hour - 16) / 24) + rng.normal(0, 3, n // 24).repeat(24)
    present = np.ones(n)
    usual = 0.1 + 0.2 * SHAPE[hour] + rng.normal(0, 0.02, n)
    heated = weather_response_fit(
        kwh_h=usual + 0.1 * np.clip(15.5 - temp, 0, None), temp=temp, hour=hour, weekend=np.zeros(n), present=present
    )
    unheated = weather_response_fit(kwh_h=usual, temp=temp, hour=hour, weekend=np.zeros(n), present=present)
    assert heated.heat_base == 15.5
    assert abs(heated.heat_kw - 0.1) < 0.01
    assert unheated.heat_kw == 0.0
    # Nobody in: no heating expected, however cold.
    assert heated.kw(np.array([0.0]), np.array([0.0]))[0] == 0.0
    assert heated.kw(np.array([0.0]), np.array([1.0]))[0] > 1.4
