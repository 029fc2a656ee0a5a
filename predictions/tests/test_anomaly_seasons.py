"""The baseline's temperature response holds in weather colder than any in its training window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig, frame_candidates
from predictions.detection.frames import MeterInfo
from predictions.ml.anomaly import AnomalyBaseline
from predictions.ml.anomaly_features import weather_response_fit

ROOMS = 8
HEATERS = (1, 2, 3)  # three rooms of eight heat: too few for the hostel's median to absorb it
TRAIN_DAYS, COLD_DAYS = 56, 7
STEPS = 96
SHAPE = np.array([3, 2, 1.5, 1, 1, 1, 1.5, 3, 4, 3, 2.5, 2.5, 3, 3, 2.5, 2.5, 3, 4, 5, 6, 6, 5.5, 5, 4]) / 3.2


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
    return pd.concat(parts, ignore_index=True), cold_from


def _consumption_alarms(frame: pd.DataFrame, cold_from: pd.Timestamp) -> dict[int, list[str]]:
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < cold_from].reset_index(drop=True))
    window = frame[frame["ts"] >= cold_from - pd.Timedelta(hours=24)].reset_index(drop=True)
    pred = model.predict(window, with_iforest=False, peers=True)
    infos = {
        m: MeterInfo(m, f"R{m}", "room", 1, m, f"Room {m}", 2, 2, 15, 230.0, 10.0, 1, "UTC")
        for m in range(1, ROOMS + 1)
    }
    found = frame_candidates(frame=window, pred=pred, infos=infos, policies={}, config=DetectorConfig())
    alarms: dict[int, list[str]] = {}
    for candidate in found:
        if candidate.kind in CONSUMPTION_KINDS and window["ts"].iloc[candidate.end_idx] >= cold_from:
            alarms.setdefault(candidate.meter_id, []).append(candidate.kind)
    return alarms


def test_heating_that_grows_as_it_gets_colder_than_the_training_window_is_not_flagged() -> None:
    frame, cold_from = _campus()
    assert frame.loc[frame["ts"] >= cold_from, "temp"].max() < frame.loc[frame["ts"] < cold_from, "temp"].min()
    assert _consumption_alarms(frame, cold_from) == {}


def test_a_real_excess_on_a_heated_room_in_the_cold_is_still_flagged() -> None:
    frame, cold_from = _campus(excess_room=HEATERS[0])
    alarms = _consumption_alarms(frame, cold_from)
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
