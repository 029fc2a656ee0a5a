"""Room meters of one hostel in changing weather, and the consumption alarms a baseline raises on them.

Shared by the season tests (a cold week after mild ones, a heat wave after spring).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig, frame_candidates
from predictions.detection.frames import MeterInfo
from predictions.ml.anomaly import AnomalyBaseline

STEPS = 96  # quarter hours a day
SHAPE = np.array([3, 2, 1.5, 1, 1, 1, 1.5, 3, 4, 3, 2.5, 2.5, 3, 3, 2.5, 2.5, 3, 4, 5, 6, 6, 5.5, 5, 4]) / 3.2


def room_rows(
    *,
    room: int,
    ts: pd.DatetimeIndex,
    hour: np.ndarray,
    temp: np.ndarray | float,
    kw: np.ndarray,
    occupants: np.ndarray | float = 2.0,
) -> pd.DataFrame:
    """One two-bed room's quarter hours (meter id room + 1) as the baseline reads them, full unless told."""
    return pd.DataFrame(
        {
            "meter_id": room + 1,
            "hostel_id": 1,
            "ts": ts,
            "kwh": kw / 4,
            "interval_h": 0.25,
            "hour": hour,
            "dow": ts.day_of_week.to_numpy().astype(float),
            "temp": np.round(temp, 1),
            "occupants": occupants,
            "capacity": 2.0,
            "bed_type": 2.0,
            "is_main": 0.0,
            "calendar": 1.0,
            "voltage": 230.0,
            "current": kw / 0.23,
            "pf": 0.97,
        }
    )


def room_infos(rooms: int) -> dict[int, MeterInfo]:
    """What detection knows of meters 1..rooms: each a two-bed room of hostel 1."""
    return {
        m: MeterInfo(m, f"R{m}", "room", 1, m, f"Room {m}", 2, 2, 15, 230.0, 10.0, 1, "UTC")
        for m in range(1, rooms + 1)
    }


def consumption_alarms(frame: pd.DataFrame, since: pd.Timestamp, *, rooms: int) -> dict[int, list[str]]:
    """Train on everything before `since`, judge from a day before it; consumption alarms ending after it, by meter."""
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < since].reset_index(drop=True))
    window = frame[frame["ts"] >= since - pd.Timedelta(hours=24)].reset_index(drop=True)
    pred = model.predict(window, with_iforest=False, peers=True)
    found = frame_candidates(frame=window, pred=pred, infos=room_infos(rooms), policies={}, config=DetectorConfig())
    alarms: dict[int, list[str]] = {}
    for candidate in found:
        if candidate.kind in CONSUMPTION_KINDS and window["ts"].iloc[candidate.end_idx] >= since:
            alarms.setdefault(candidate.meter_id, []).append(candidate.kind)
    return alarms
