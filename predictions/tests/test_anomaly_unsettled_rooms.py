"""A room whose held-back week was quieter than its lived-in weeks (residents not back) is not judged by that week."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly_rooms import steady_rooms, unsettled_rooms
from predictions.tests.weather_rooms import SHAPE, consumption_alarms, room_rows

ROOMS, STEPS, DAYS, TRAIN_DAYS = 8, 96, 42, 35
HALF_BACK, AWAY_MORE, DRIFTING = 1, 2, 3


def _hostel() -> pd.DataFrame:
    """Eight two-bed rooms. In the week before the retrain, room 1 has one resident of two back and room 2's
    residents are out most days (on the roster, drawing a third): neither runs its evening appliance then. Room 3
    draws more each day. All full after."""
    rng = np.random.default_rng(7)
    ts = pd.date_range("2025-03-03", periods=DAYS * STEPS, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(DAYS * STEPS) // STEPS
    held = (day >= TRAIN_DAYS - 7) & (day < TRAIN_DAYS)
    parts = []
    for room in range(1, ROOMS + 1):
        daily = rng.lognormal(0.0, 0.15, DAYS)[day]
        occupants = np.where(held & (room == HALF_BACK), 1.0, 2.0)
        people = occupants * np.where(held & (room == AWAY_MORE), 1 / 3, 1.0)
        kw = (0.05 + 0.3 * people * SHAPE[ts.hour.to_numpy()] * daily) * rng.lognormal(0, 0.07, len(ts))
        # A kettle-heater-dryer evening on two days of three, for an hour or so: not while the room is quiet.
        uses = (rng.random(DAYS) < 0.65)[day] & ~(held & (room in (HALF_BACK, AWAY_MORE)))
        first, length = rng.integers(72, 88, DAYS)[day], rng.integers(4, 8, DAYS)[day]
        slot = np.arange(DAYS * STEPS) % STEPS
        kw += 2.0 * (uses & (slot >= first) & (slot < first + length))
        if room == DRIFTING:
            kw *= 1.0 + 0.05 * np.clip(day - (TRAIN_DAYS - 7), 0, None)
        parts.append(
            room_rows(room=room - 1, ts=ts, hour=hour, temp=18.0, kw=kw, occupants=occupants).assign(room_id=room)
        )
    return pd.concat(parts, ignore_index=True)


def test_rooms_whose_held_back_week_was_quieter_or_had_other_residents_are_unsettled_a_drifting_one_is_not() -> None:
    frame = _hostel()
    rows = frame[frame["ts"] < frame["ts"].min() + pd.Timedelta(days=TRAIN_DAYS)].reset_index(drop=True)
    held = pd.Series(rows["ts"] >= rows["ts"].max() - pd.Timedelta(days=7), index=rows.index)
    level = rows[~held]
    steady = steady_rooms(rows, held, level)
    assert HALF_BACK not in steady
    assert unsettled_rooms(rows, held, level, steady) == {HALF_BACK, AWAY_MORE}


def test_residents_back_in_full_after_a_quiet_held_back_week_raise_no_alarm() -> None:
    frame = _hostel()
    cut = frame["ts"].min() + pd.Timedelta(days=TRAIN_DAYS)
    alarms = consumption_alarms(frame, cut, rooms=ROOMS)
    assert HALF_BACK not in alarms, alarms
    assert AWAY_MORE not in alarms, alarms
