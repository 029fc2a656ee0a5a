"""A four-hour mean is judged by the spread of its own time of day: quiet nights are not read by busy evenings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig, frame_candidates
from predictions.ml.anomaly import AnomalyBaseline
from predictions.tests.weather_rooms import SHAPE, STEPS, room_infos, room_rows

ROOMS, ROOM = 8, 3
DAYS = 35
START = pd.Timestamp("2025-11-03", tz="UTC")
CUT = START + pd.Timedelta(days=DAYS - 2)


def _hostel(heater_kw: float) -> pd.DataFrame:
    """Rooms whose residents run a 2.5 kW appliance for one to three hours on most evenings, at night only
    standby; room 3 gets a heater from 01:00 to 05:00 on the night after the cut."""
    rng = np.random.default_rng(21)
    ts = pd.date_range(START, periods=DAYS * STEPS, freq="15min")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(DAYS * STEPS) // STEPS
    parts = []
    for room in range(ROOMS):
        kw = (0.05 + 0.3 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.15, DAYS)[day]) * rng.lognormal(
            0.0, 0.07, len(ts)
        )
        for d in range(DAYS):
            if rng.random() < 0.7:  # the evening appliance: starts 18:00-21:00, runs one to three hours
                start = d * STEPS + int(rng.integers(72, 85))
                kw[start : start + int(rng.integers(4, 13))] += 2.5
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=18.0, kw=kw))
    frame = pd.concat(parts, ignore_index=True)
    night = CUT + pd.Timedelta(days=1)
    heater = (frame["meter_id"] == ROOM) & (frame["ts"] >= night + pd.Timedelta(hours=1))
    heater &= frame["ts"] < night + pd.Timedelta(hours=5)
    frame.loc[heater, "kwh"] += heater_kw / 4
    return frame


def test_night_windows_are_judged_by_nights_and_a_heater_left_on_overnight_is_found() -> None:
    frame = _hostel(heater_kw=1.0)
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < CUT].reset_index(drop=True))
    stats = model.meters[ROOM]
    night, evening = stats.short_scale(np.array([2.0])), stats.short_scale(np.array([21.0]))
    assert np.all(night < 0.6 * evening)  # the evenings' appliance is not the nights' spread
    window = frame[frame["ts"] >= CUT - pd.Timedelta(hours=24)].reset_index(drop=True)
    pred = model.predict(window, with_iforest=False, peers=True)
    found = frame_candidates(frame=window, pred=pred, infos=room_infos(ROOMS), policies={}, config=DetectorConfig())
    alarms = [(c.meter_id, window["ts"].iloc[c.start_idx]) for c in found if c.kind in CONSUMPTION_KINDS]
    assert [m for m, at in alarms if m == ROOM and at.hour < 6 and at >= CUT] != []
    assert [m for m, _ in alarms if m != ROOM] == []  # and the other rooms' evenings stay quiet
