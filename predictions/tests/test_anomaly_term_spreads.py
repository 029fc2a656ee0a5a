"""A room is judged by the spread of the weeks someone lives in it, not by the standby of an empty vacation week."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig, frame_candidates
from predictions.detection.frames import MeterInfo
from predictions.ml.anomaly import AnomalyBaseline
from predictions.ml.anomaly_features import calibration_rows
from predictions.tests.test_anomaly_term_start import ROOMS, SHAPE, STAY, _hostel
from predictions.tests.weather_rooms import room_infos, room_rows

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


def test_a_room_borrowing_takes_its_recent_lived_in_rows_and_older_ones_only_when_too_few() -> None:
    n = 4 * 96
    base = {"capacity": 2.0, "is_main": 0.0, "interval_h": 0.25}
    rows = pd.DataFrame(base | {"occupants": np.r_[np.full(3 * n // 4, 2.0), np.zeros(n // 4)]})
    held = np.r_[np.zeros(3 * n // 4, dtype=bool), np.ones(n // 4, dtype=bool)]  # its last day, empty
    recent = np.r_[np.zeros(n // 4, dtype=bool), np.ones(3 * n // 4, dtype=bool)]  # its last three days
    mask, source = calibration_rows(rows, held, recent)
    assert source == "borrow"
    assert mask.tolist() == (recent & ~held).tolist()  # lived in, recent: days two and three
    few = np.r_[np.zeros(n - n // 4 - 96, dtype=bool), np.ones(n // 4 + 96, dtype=bool)]  # a day of residents
    mask, _ = calibration_rows(rows, held, few)
    assert mask.tolist() == (~held).tolist()  # too few lately: every week someone lived in it


def _quiet_week_hostel() -> pd.DataFrame:
    """Ten two-bed rooms for ten weeks; room 3 ran a 2 kW heater five nights in its first weeks (never found),
    and its residents were mostly away in the last (held-back) week, though still on the roster."""
    rng = np.random.default_rng(11)
    days, steps = 70, 96
    ts = pd.date_range("2025-01-06", periods=days * steps, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(days * steps) // steps
    night = (ts.hour.to_numpy() >= 1) & (ts.hour.to_numpy() < 5)
    parts = []
    for room in range(10):  # meters 1 to 10
        daily = rng.lognormal(0.0, 0.15, days)[day] * np.where((room == 2) & (day >= 63), 0.3, 1.0)
        use = 0.3 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.15) * daily
        kw = (0.05 + use) * rng.lognormal(0.0, 0.07, len(ts))
        if room == 2:
            kw = kw + 2.0 * (night & (day >= 5) & (day < 10))
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=18.0, kw=kw))
    return pd.concat(parts, ignore_index=True)


def test_a_room_calibrated_beyond_its_held_back_week_is_not_calibrated_on_old_unscanned_incidents() -> None:
    frame = _quiet_week_hostel()
    end = frame["ts"].max() + pd.Timedelta(minutes=15)
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame.reset_index(drop=True))
    peers = [model.meters[m] for m in range(1, 11) if m != 3]
    night_block = 0  # 00:00-04:00
    # Its spreads are those of its recent weeks and its peers', not of the heater weeks ago.
    assert model.meters[3].block_scale[night_block] <= 2 * max(p.block_scale[night_block] for p in peers)
    # So the same heater tonight is found.
    tonight = frame[frame["ts"] >= end - pd.Timedelta(days=1)].copy()
    tonight["ts"] += pd.Timedelta(days=1)
    heater = (tonight["meter_id"] == 3) & (tonight["ts"].dt.hour >= 1) & (tonight["ts"].dt.hour < 5)
    tonight.loc[heater, "kwh"] += 2.0 / 4
    tonight = tonight.sort_values(["meter_id", "ts"]).reset_index(drop=True)
    pred = model.predict(tonight, with_iforest=False, peers=True)
    found = frame_candidates(frame=tonight, pred=pred, infos=room_infos(10), policies={}, config=DetectorConfig())
    assert [c.kind for c in found if c.meter_id == 3 and c.kind in CONSUMPTION_KINDS]
