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


def quarter_hours(days: int, start: str = "2025-10-01") -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray]:
    """`days` days of quarter hours from `start` (UTC): the times, their hour of the day (fractional), their
    day (0, 1, ...) and their slot of the day (0 to 95)."""
    ts = pd.date_range(start, periods=days * STEPS, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    index = np.arange(days * STEPS)
    return ts, hour, index // STEPS, index % STEPS


def evening_room_kw(rng: np.random.Generator, ts: pd.DatetimeIndex, day: np.ndarray, days: int) -> np.ndarray:
    """A lived-in room's kW at these quarter hours: the evening-heavy `SHAPE`, a level of its own, day-to-day
    and quarter-hour noise (three draws from `rng`, in this order)."""
    daily = rng.lognormal(0.0, 0.15, days)[day]
    return (0.05 + 0.3 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.15) * daily) * rng.lognormal(0.0, 0.07, len(ts))


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
