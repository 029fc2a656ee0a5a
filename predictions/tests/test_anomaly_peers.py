"""The first hot week after a training window with none: rooms cooling together are weather, a fault is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import predictions.ml.anomaly as anomaly
from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig, frame_candidates
from predictions.detection.frames import MeterInfo
from predictions.ml.anomaly import AnomalyBaseline

ROOMS = 10
NO_AC = (0, 5)  # two rooms of ten have no air conditioner
TRAIN_DAYS, HOT_DAYS = 42, 7
STEPS = 96
SHAPE = np.array([3, 2, 1.5, 1, 1, 1, 1.5, 3, 4, 3, 2.5, 2.5, 3, 3, 2.5, 2.5, 3, 4, 5, 6, 6, 5.5, 5, 4]) / 3.2


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
        parts.append(
            pd.DataFrame(
                {
                    "meter_id": room + 1,
                    "hostel_id": 1,
                    "ts": ts,
                    "kwh": kw / 4,
                    "interval_h": 0.25,
                    "hour": hour,
                    "dow": ts.day_of_week.to_numpy().astype(float),
                    "temp": np.round(temp, 1),
                    "occupants": 2.0,
                    "capacity": 2.0,
                    "bed_type": 2.0,
                    "is_main": 0.0,
                    "calendar": 1.0,
                    "voltage": 230.0,
                    "current": kw / 0.23,
                    "pf": 0.97,
                }
            )
        )
    return pd.concat(parts, ignore_index=True), hot_from


def _alarms(frame: pd.DataFrame, hot_from: pd.Timestamp) -> dict[int, list[str]]:
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < hot_from].reset_index(drop=True))
    window = frame[frame["ts"] >= hot_from - pd.Timedelta(hours=24)].reset_index(drop=True)
    pred = model.predict(window, with_iforest=False, peers=True)
    infos = {
        m: MeterInfo(m, f"R{m}", "room", 1, m, f"Room {m}", 2, 2, 15, 230.0, 10.0, 1, "UTC")
        for m in range(1, ROOMS + 1)
    }
    found = frame_candidates(frame=window, pred=pred, infos=infos, policies={}, config=DetectorConfig())
    alarms: dict[int, list[str]] = {}
    for candidate in found:
        if candidate.kind in CONSUMPTION_KINDS and window["ts"].iloc[candidate.end_idx] >= hot_from:
            alarms.setdefault(candidate.meter_id, []).append(candidate.kind)
    return alarms


@pytest.fixture(scope="module")
def campus() -> tuple[pd.DataFrame, pd.Timestamp]:
    return _campus()


def test_the_first_heat_wave_after_a_window_without_one_is_not_flagged_on_rooms_that_cool(
    campus: tuple[pd.DataFrame, pd.Timestamp],
) -> None:
    frame, hot_from = campus
    assert frame.loc[frame["ts"] < hot_from, "temp"].max() < 24.0  # the model has never seen cooling
    assert _alarms(frame, hot_from) == {}


def test_without_the_rooms_shared_rise_the_same_heat_wave_floods_the_inbox(
    campus: tuple[pd.DataFrame, pd.Timestamp], monkeypatch: pytest.MonkeyPatch
) -> None:
    frame, hot_from = campus
    monkeypatch.setattr(anomaly, "peer_weather_kw", lambda frame, resid, usual: np.zeros(len(resid)))
    alarms = _alarms(frame, hot_from)
    assert len(alarms) >= 3  # the hostel-wide relative median alone leaves rooms far from it flagged
    assert sum(len(kinds) for kinds in alarms.values()) >= 10


def test_a_fault_in_a_cooling_room_during_the_heat_wave_is_still_flagged() -> None:
    frame, hot_from = _campus(fault_room=3)
    alarms = _alarms(frame, hot_from)
    assert set(alarms) == {4}
