"""A room is judged by the spread of the weeks someone lives in it, not by the standby of an empty vacation week."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig, frame_candidates
from predictions.detection.frames import MeterInfo
from predictions.ml.anomaly import AnomalyBaseline
from predictions.ml.anomaly_features import calibration_rows
from predictions.tests.test_anomaly_term_start import ROOMS, STAY, _hostel

RETURNING = [r + 1 for r in range(ROOMS) if r not in STAY]


def _trained(term_days: int = 21) -> tuple[AnomalyBaseline, pd.DataFrame, pd.Timestamp]:
    """Rooms only: three weeks of term, a vacation whose last (held-back) week has six rooms empty, residents back."""
    frame, back = _hostel(term_days)
    rooms = frame[frame["meter_id"] <= ROOMS].reset_index(drop=True)
    model = AnomalyBaseline(n_estimators=60)
    model.train(rooms[rooms["ts"] < back].reset_index(drop=True))
    return model, rooms, back


def test_rooms_empty_in_the_held_back_week_take_the_spread_of_rooms_lived_in() -> None:
    model, _, _ = _trained()
    lived_in = [model.meters[r + 1] for r in STAY]
    for meter_id in RETURNING:
        stats = model.meters[meter_id]
        # Not the spread of an empty room's steady standby: at least that of the rooms someone lived in.
        assert stats.sigma >= min(s.sigma for s in lived_in) * 0.99, meter_id
        for i, scale in enumerate(stats.win_scale):
            assert scale >= min(s.win_scale[i] for s in lived_in) * 0.99, (meter_id, i)


def test_residents_back_at_the_start_of_term_raise_no_consumption_alarm() -> None:
    model, rooms, back = _trained()
    window = rooms[(rooms["ts"] >= back - pd.Timedelta(hours=24)) & (rooms["ts"] < back + pd.Timedelta(days=4))]
    window = window.reset_index(drop=True)
    pred = model.predict(window, with_iforest=False, peers=True)
    infos = {
        m: MeterInfo(m, f"R{m}", "room", 1, m, f"Room {m}", 2, 2, 15, 230.0, 10.0, 1, "UTC")
        for m in range(1, ROOMS + 1)
    }
    found = frame_candidates(frame=window, pred=pred, infos=infos, policies={}, config=DetectorConfig())
    alarms = [
        (c.meter_id, c.kind)
        for c in found
        if c.kind in CONSUMPTION_KINDS and window["ts"].iloc[c.end_idx] >= back and c.meter_id in RETURNING
    ]
    assert alarms == []


def test_a_fault_on_a_returning_room_is_still_found() -> None:
    model, rooms, back = _trained()
    window = rooms[(rooms["ts"] >= back - pd.Timedelta(hours=24)) & (rooms["ts"] < back + pd.Timedelta(days=4))]
    window = window.reset_index(drop=True)
    heater = (window["meter_id"] == RETURNING[0]) & (window["ts"] >= back + pd.Timedelta(days=2, hours=10))
    heater &= window["ts"] < back + pd.Timedelta(days=2, hours=16)
    window.loc[heater, "kwh"] += 2.0 / 4  # a 2 kW heater left on for six hours
    pred = model.predict(window, with_iforest=False, peers=True)
    infos = {
        m: MeterInfo(m, f"R{m}", "room", 1, m, f"Room {m}", 2, 2, 15, 230.0, 10.0, 1, "UTC")
        for m in range(1, ROOMS + 1)
    }
    found = frame_candidates(frame=window, pred=pred, infos=infos, policies={}, config=DetectorConfig())
    hits = [
        c
        for c in found
        if c.meter_id == RETURNING[0] and c.kind in CONSUMPTION_KINDS and heater.iloc[c.start_idx : c.end_idx + 1].any()
    ]
    assert hits


def test_calibration_rows_choose_occupied_rows_for_rooms_only() -> None:
    n = 2 * 96
    base = {"capacity": 2.0, "is_main": 0.0, "interval_h": 0.25}
    held = np.r_[np.zeros(n // 2, dtype=bool), np.ones(n // 2, dtype=bool)]
    lived = pd.DataFrame(base | {"occupants": np.full(n, 2.0)})
    empty_then_back = pd.DataFrame(base | {"occupants": np.r_[np.full(n // 2, 2.0), np.zeros(n // 2)]})
    never = pd.DataFrame(base | {"occupants": np.zeros(n)})
    main = pd.DataFrame(base | {"is_main": 1.0, "capacity": 16.0, "occupants": np.zeros(n)})
    double = pd.concat([lived, lived], ignore_index=True)
    mask, source = calibration_rows(double, np.r_[held, held])
    assert source == "lived_in"
    assert mask.sum() == n
    mask, source = calibration_rows(pd.concat([empty_then_back] * 2, ignore_index=True), np.r_[held, held])
    assert source == "borrow"
    assert mask.sum() == n  # its occupied rows, all outside the held-back ones
    assert calibration_rows(never, held)[1] == "as_is"
    assert calibration_rows(main, held)[1] == "as_is"
