"""A room's evening appliance sets the spread of its evenings, not of its afternoons: a daytime spike stands out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig, frame_candidates
from predictions.ml.anomaly import AnomalyBaseline
from predictions.ml.anomaly_features import MeterStats, block_spreads
from predictions.tests.weather_rooms import evening_room_kw, quarter_hours, room_infos, room_rows

ROOMS = 8
HEAVY = 1  # the room with a 2.5 kW appliance on most evenings
TRAIN_DAYS, DETECT_DAYS = 28, 7


def _hostel() -> pd.DataFrame:
    """Eight lived-in rooms; room 1 runs a 2.5 kW appliance for 2-4 hours from 19:00-21:00 on two evenings in three."""
    rng = np.random.default_rng(11)
    days = TRAIN_DAYS + DETECT_DAYS
    ts, hour, day, slot = quarter_hours(days)
    parts = []
    for room in range(ROOMS):
        kw = evening_room_kw(rng, ts, day, days)
        if room + 1 == HEAVY:
            uses = rng.random(days) < 0.65
            first = rng.integers(76, 84, size=days)
            length = rng.integers(8, 16, size=days)
            kw = kw + 2.5 * (uses[day] & (slot >= first[day]) & (slot < first[day] + length[day]))
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=18.0, kw=kw))
    return pd.concat(parts, ignore_index=True)


INFOS = room_infos(ROOMS)


def _found(model: AnomalyBaseline, window: pd.DataFrame) -> list[tuple[int, str, pd.Timestamp]]:
    window = window.reset_index(drop=True)
    pred = model.predict(window, with_iforest=False, peers=True)
    found = frame_candidates(frame=window, pred=pred, infos=INFOS, policies={}, config=DetectorConfig())
    return [(c.meter_id, c.kind, window["ts"].iloc[c.start_idx]) for c in found if c.kind in CONSUMPTION_KINDS]


def _trained() -> tuple[AnomalyBaseline, pd.DataFrame, pd.Timestamp]:
    frame = _hostel()
    cut = frame["ts"].min() + pd.Timedelta(days=TRAIN_DAYS)
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < cut].reset_index(drop=True))
    return model, frame[frame["ts"] >= cut - pd.Timedelta(hours=24)].reset_index(drop=True), cut


def test_a_daytime_spike_in_a_room_with_a_heavy_evening_appliance_is_found() -> None:
    model, window, cut = _trained()
    at = cut + pd.Timedelta(days=3, hours=14)
    spike = (window["meter_id"] == HEAVY) & (window["ts"] >= at) & (window["ts"] < at + pd.Timedelta(minutes=30))
    window.loc[spike, "kwh"] += 4.0 / 4  # 4 kW for half an hour in the afternoon (the evenings' appliance: 2.5 kW)
    assert (HEAVY, "spike", at) in _found(model, window)


def test_the_heavy_appliance_evenings_themselves_raise_no_alarm() -> None:
    model, window, cut = _trained()
    alarms = [(m, kind, at) for m, kind, at in _found(model, window) if at >= cut]
    assert alarms == []
    stats = model.meters[HEAVY]
    # The evening blocks carry the appliance; the afternoon is judged by the afternoon's own spread.
    assert stats.block_scale[14 // 4] < stats.block_scale[20 // 4] / 3


def test_block_spreads_fall_back_to_the_whole_day_where_a_block_has_too_few_readings() -> None:
    hours = np.tile(np.repeat(np.arange(24), 10), 3).astype(float)
    rel = np.where(hours >= 20, 3.0, 0.0) + np.tile(np.linspace(-0.1, 0.1, 10), 72)
    calibration = hours >= 8  # no calibration readings before 08:00
    spreads = block_spreads(rel, calibration, hours, 0.0)
    assert len(spreads) == 6
    assert spreads[0] == spreads[1]  # nothing to measure at night: the whole day's spread
    assert spreads[0] > spreads[2]
    assert spreads[2] < spreads[5] / 3  # the morning is not judged by the evening's tail


def test_a_quiet_block_is_never_judged_tighter_than_a_share_of_the_whole_days_spread() -> None:
    stats = MeterStats(scale=0.3, sigma=0.2, bias=0.0, q1=-0.2, q3=0.2, tier="own", days=30)
    stats.win_scale = [2.0, 0.3, 0.2]
    stats.block_scale = [0.1, 0.1, 0.1, 0.1, 1.5, 3.0]
    scales = np.asarray(stats.point_scale(np.array([2.0, 14.5, 17.0, 21.0])))
    assert np.allclose(scales, [0.8, 0.8, 1.5, 3.0])
    stats.block_scale = []  # a model without blocks (a cohort's stats): the whole day's spread
    assert stats.point_scale(np.array([14.0])) == 2.0


def test_a_four_hour_mean_is_judged_by_its_block_and_a_model_saved_without_blocks_by_the_whole_day() -> None:
    stats = MeterStats(scale=0.3, sigma=0.2, bias=0.0, q1=-0.2, q3=0.2, tier="own", days=30)
    stats.win_scale = [2.0, 1.0, 0.2]
    stats.short_block_scale = [0.1, 0.2, 0.3, 0.5, 1.2, 2.0]
    scales = np.asarray(stats.short_scale(np.array([2.0, 9.0, 17.0, 21.0])))
    assert np.allclose(scales, [0.4, 0.4, 1.2, 2.0])  # never below 0.4 of the whole day's four-hour spread
    del stats.short_block_scale  # unpickled from a model saved before four-hour blocks were measured
    assert stats.short_scale(np.array([2.0])) == 1.0
