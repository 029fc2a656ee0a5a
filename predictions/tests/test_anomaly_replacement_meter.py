"""A meter that replaces a room's meter starts from that room's baseline, not from a stranger's (its cohort's)."""

from __future__ import annotations

import pandas as pd

from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig, frame_candidates
from predictions.detection.frames import MeterInfo
from predictions.ml.anomaly import AnomalyBaseline
from predictions.tests.test_anomaly_term_start import ROOMS, _hostel

BUSY = 1  # room 1's residents use three times what the others do
NEW_METER = 99  # installed in room 1 when the training window ends


def _rooms() -> tuple[pd.DataFrame, pd.Timestamp]:
    frame, back = _hostel(35)
    rooms = frame[frame["meter_id"] <= ROOMS].reset_index(drop=True)
    rooms["room_id"] = rooms["meter_id"] + 100
    busy = rooms["meter_id"] == BUSY
    rooms.loc[busy, "kwh"] = rooms.loc[busy, "kwh"] * 3
    swap = back + pd.Timedelta(days=4)
    rooms.loc[busy & (rooms["ts"] >= swap), "meter_id"] = NEW_METER
    return rooms.sort_values(["meter_id", "ts"]).reset_index(drop=True), swap


def _alarms(model: AnomalyBaseline, window: pd.DataFrame) -> list[tuple[int, str]]:
    pred = model.predict(window, with_iforest=False, peers=True)
    infos = {
        m: MeterInfo(m, f"R{m}", "room", 1, m + 100, f"Room {m}", 2, 2, 15, 230.0, 10.0, 1, "UTC")
        for m in [*range(1, ROOMS + 1), NEW_METER]
    }
    found = frame_candidates(frame=window, pred=pred, infos=infos, policies={}, config=DetectorConfig())
    return [(c.meter_id, c.kind) for c in found if c.kind in CONSUMPTION_KINDS]


def test_a_replacement_meter_is_expected_at_its_rooms_level() -> None:
    rooms, swap = _rooms()
    model = AnomalyBaseline(n_estimators=60)
    model.train(rooms[rooms["ts"] < swap].reset_index(drop=True))
    assert model.room_meters[BUSY + 100] == BUSY
    window = rooms[rooms["ts"] >= swap].reset_index(drop=True)
    pred = model.predict(window, with_iforest=False)
    new = (window["meter_id"] == NEW_METER).to_numpy()
    ratio = pred.expected[new].sum() / window.loc[new, "kwh"].sum()
    assert 0.75 < ratio < 1.3, ratio  # the busy room's level, not a third of it
    assert [a for a in _alarms(model, window) if a[0] == NEW_METER] == []


def test_a_heater_left_on_behind_a_replacement_meter_is_still_found() -> None:
    rooms, swap = _rooms()
    model = AnomalyBaseline(n_estimators=60)
    model.train(rooms[rooms["ts"] < swap].reset_index(drop=True))
    window = rooms[rooms["ts"] >= swap].reset_index(drop=True)
    heater = (window["meter_id"] == NEW_METER) & (window["ts"] >= swap + pd.Timedelta(days=1, hours=9))
    heater &= window["ts"] < swap + pd.Timedelta(days=1, hours=15)
    window.loc[heater, "kwh"] += 2.0 / 4
    assert (NEW_METER, "sustained_excess") in _alarms(model, window)


def test_without_rooms_in_the_frame_a_new_meter_falls_back_to_its_cohort() -> None:
    rooms, swap = _rooms()
    model = AnomalyBaseline(n_estimators=60)
    model.train(rooms[rooms["ts"] < swap].drop(columns="room_id").reset_index(drop=True))
    assert model.room_meters == {}
    stats = model.stats_for(NEW_METER, is_main=0.0, bed_type=2.0, room_id=BUSY + 100)
    assert stats.tier == "cohort"
