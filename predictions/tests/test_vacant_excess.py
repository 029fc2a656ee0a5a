"""An empty room drawing a few hundred watts for hours is an appliance left on, worth a warden's time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.detection.detectors import DetectorConfig, frame_candidates
from predictions.detection.frames import MeterInfo
from predictions.ml.anomaly import Prediction

STANDBY_KWH = 0.01  # a quarter-hour of an empty room's standby (40 W)


def _found(*, hours: float, excess_kw: float, occupants: float) -> list[str]:
    """Kinds found in one room's day whose middle `hours` draw `excess_kw` above an expected standby."""
    n = 96
    rng = np.random.default_rng(3)
    ts = pd.date_range("2026-01-12", periods=n, freq="15min", tz="UTC")
    expected = np.full(n, STANDBY_KWH)
    kwh = expected * rng.uniform(0.9, 1.1, n)
    on = np.zeros(n, dtype=bool)
    on[40 : 40 + round(hours * 4)] = True
    kwh[on] += excess_kw / 4 * rng.uniform(0.95, 1.05, on.sum())
    frame = pd.DataFrame(
        {
            "meter_id": 1,
            "ts": ts,
            "kwh": kwh,
            "voltage": 230.0 + rng.normal(0, 1, n),
            "pf": 0.97,
            "hour": ts.hour + ts.minute / 60,
            "occupants": occupants,
        }
    )
    z = (kwh - expected) / (0.2 * expected)
    pred = Prediction(
        expected=expected,
        denom=expected,
        z=z,
        z_short=np.zeros(n),
        z_long=np.zeros(n),
        iqr_out=np.zeros(n, dtype=bool),
        seasonal_z=np.zeros(n),
        iforest=np.zeros(n),
        tier=np.full(n, "own", dtype=object),
        fit=np.ones(n, dtype=bool),
    )
    info = MeterInfo(1, "R1", "room", 1, 1, "Room 1", 2, 2, 15, 230.0, 10.0, 1, "UTC")
    found = frame_candidates(frame=frame, pred=pred, infos={1: info}, policies={}, config=DetectorConfig())
    return [c.kind for c in found]


def test_an_empty_room_drawing_a_quarter_kilowatt_for_hours_is_found() -> None:
    assert _found(hours=10, excess_kw=0.25, occupants=0.0) == ["vacant_usage"]


def test_the_same_draw_in_a_lived_in_room_or_for_a_moment_is_not_worth_an_alert() -> None:
    assert _found(hours=10, excess_kw=0.25, occupants=2.0) == []  # residents' use varies by that much
    assert _found(hours=2, excess_kw=0.25, occupants=0.0) == []  # a cleaner's vacuum, a short visit
    assert _found(hours=10, excess_kw=0.1, occupants=0.0) == []  # below what an appliance left on draws
