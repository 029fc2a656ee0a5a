"""Readings the detector already found abnormal teach the baseline nothing: a found spike does not hide the next one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig, frame_candidates
from predictions.ml.anomaly import AnomalyBaseline
from predictions.ml.anomaly_known import KnownSpan, outside_known
from predictions.tests.weather_rooms import SHAPE, STEPS, room_infos, room_rows

ROOMS = 8
ROOM = 3  # the room with a spike in the held-back week and another in the week after
TRAIN_DAYS, DETECT_DAYS = 28, 7


def _hostel() -> tuple[pd.DataFrame, pd.Timestamp, KnownSpan]:
    """Eight lived-in rooms; room 3 draws 4 kW more for an hour on an afternoon of the last training week."""
    rng = np.random.default_rng(5)
    days = TRAIN_DAYS + DETECT_DAYS
    ts = pd.date_range("2026-05-01", periods=days * STEPS, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(days * STEPS) // STEPS
    parts = []
    for room in range(ROOMS):
        daily = rng.lognormal(0.0, 0.15, days)[day]
        kw = (0.05 + 0.3 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.15) * daily) * rng.lognormal(
            0.0, 0.07, len(ts)
        )
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=18.0, kw=kw))
    frame = pd.concat(parts, ignore_index=True)
    cut = ts[0] + pd.Timedelta(days=TRAIN_DAYS)
    start = cut - pd.Timedelta(days=3) + pd.Timedelta(hours=14)
    end = start + pd.Timedelta(hours=1)
    inside = (frame["meter_id"] == ROOM) & (frame["ts"] >= start) & (frame["ts"] < end)
    frame.loc[inside, "kwh"] += 4.0 / 4
    return frame, cut, (ROOM, start.to_pydatetime(), end.to_pydatetime())


def _spikes_next_week(known: list[KnownSpan]) -> list[tuple[int, str]]:
    frame, cut, _ = _hostel()
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < cut].reset_index(drop=True), known=known)
    window = frame[frame["ts"] >= cut - pd.Timedelta(hours=24)].reset_index(drop=True)
    at = cut + pd.Timedelta(days=2, hours=14)
    again = (window["meter_id"] == ROOM) & (window["ts"] >= at) & (window["ts"] < at + pd.Timedelta(minutes=45))
    window.loc[again, "kwh"] += 3.5 / 4  # the same kind of spike, a little smaller, the week after
    pred = model.predict(window, with_iforest=False, peers=True)
    found = frame_candidates(frame=window, pred=pred, infos=room_infos(ROOMS), policies={}, config=DetectorConfig())
    return [
        (c.meter_id, c.kind) for c in found if c.kind in CONSUMPTION_KINDS and window["ts"].iloc[c.start_idx] >= cut
    ]


def test_a_spike_found_in_the_held_back_week_does_not_hide_the_same_spike_the_week_after() -> None:
    _, _, spike = _hostel()
    assert (ROOM, "spike") in _spikes_next_week([spike])


def test_outside_known_leaves_out_only_the_known_anomalys_readings_of_its_own_meter() -> None:
    frame, _, (meter_id, start, end) = _hostel()
    keep = outside_known(frame, [(meter_id, start, end)])
    left_out = frame[~keep]
    assert len(left_out) == 4  # an hour of quarter hours
    assert set(left_out["meter_id"]) == {meter_id}
    assert left_out["ts"].min() == start
    assert left_out["ts"].max() < end
    assert outside_known(frame, []).all()
