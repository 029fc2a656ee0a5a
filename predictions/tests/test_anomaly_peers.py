"""The first hot week after a training window with none: rooms cooling together are weather, a fault is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import predictions.ml.anomaly as anomaly
from predictions.tests.weather_rooms import SHAPE, STEPS, consumption_alarms, room_rows

ROOMS = 10
NO_AC = (0, 5)  # two rooms of ten have no air conditioner
TRAIN_DAYS, HOT_DAYS = 42, 7


def _campus(*, fault_room: int | None = None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Spring weeks (9 to 21 C, no cooling at all), then a heat wave (27 to 37 C): AC draws 0.12 kW per degree."""
    rng = np.random.default_rng(11)
    days = TRAIN_DAYS + HOT_DAYS
    ts = pd.date_range("2025-04-20", periods=days * STEPS, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(days * STEPS) // STEPS
    mean = np.where(day < TRAIN_DAYS, 15.0, 32.0) + np.clip(rng.normal(0, 1.0, days), -2, 2)[day]
    temp = mean + 5.0 * np.cos(2 * np.pi * (hour - 16) / 24)
    hot_from = ts[TRAIN_DAYS * STEPS]
    parts = []
    for room in range(ROOMS):
        # Residents' days differ (the simulator's day-to-day spread): a room's usual level varies by 15 %.
        daily = rng.lognormal(0.0, 0.15, days)[day]
        usual = 0.05 + 0.25 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.15) * daily
        setpoint = 23.5 + 3.0 * rng.random()
        cooling = 0.0 if room in NO_AC else np.clip(0.12 * (temp - setpoint), 0.0, 1.8)
        kw = (usual + cooling) * rng.lognormal(0.0, 0.07, len(ts))
        if room == fault_room:  # a heater left on for a day in the heat: 1.5 kW more
            at = TRAIN_DAYS * STEPS + 3 * STEPS + 32
            kw[at : at + STEPS] += 1.5
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=temp, kw=kw))
    return pd.concat(parts, ignore_index=True), hot_from


@pytest.fixture(scope="module")
def campus() -> tuple[pd.DataFrame, pd.Timestamp]:
    return _campus()


def test_the_first_heat_wave_after_a_window_without_one_is_not_flagged_on_rooms_that_cool(
    campus: tuple[pd.DataFrame, pd.Timestamp],
) -> None:
    frame, hot_from = campus
    assert frame.loc[frame["ts"] < hot_from, "temp"].max() < 24.0  # the model has never seen cooling
    assert consumption_alarms(frame, hot_from, rooms=ROOMS) == {}


def test_without_the_rooms_shared_rise_the_same_heat_wave_floods_the_inbox(
    campus: tuple[pd.DataFrame, pd.Timestamp], monkeypatch: pytest.MonkeyPatch
) -> None:
    frame, hot_from = campus
    monkeypatch.setattr(anomaly, "peer_weather_kw", lambda frame, resid, *rest: np.zeros(len(resid)))
    alarms = consumption_alarms(frame, hot_from, rooms=ROOMS)
    assert len(alarms) >= 3  # the hostel-wide relative median alone leaves rooms far from it flagged
    assert sum(len(kinds) for kinds in alarms.values()) >= 10


def test_a_fault_in_a_cooling_room_during_the_heat_wave_is_still_flagged() -> None:
    frame, hot_from = _campus(fault_room=3)
    alarms = consumption_alarms(frame, hot_from, rooms=ROOMS)
    assert set(alarms) == {4}
