"""A room whose evening appliance happened to stay off through the held-back week: its evenings stay usual.

The same residents run a 2.5 kW appliance on two evenings in three. One week it stays off (chance, or the
resident away on those evenings); the model retrained right after measures the room's spreads on that
quiet week. The appliance's return is the room's habit, not an evening spike on each of the next days;
an appliance left on for days is still an excess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly import AnomalyBaseline
from predictions.ml.anomaly_rooms import usual_week_spreads
from predictions.tests.weather_rooms import SHAPE, STEPS, consumption_alarms, room_rows

ROOMS = 8
HEAVY = 1  # meter of the room with the appliance
TRAIN_DAYS, DETECT_DAYS = 35, 7
QUIET = range(TRAIN_DAYS - 7, TRAIN_DAYS)  # the held-back week: the appliance stays off


def _hostel(*, left_on: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    days = TRAIN_DAYS + DETECT_DAYS
    ts = pd.date_range("2025-10-01", periods=days * STEPS, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(days * STEPS) // STEPS
    slot = np.arange(days * STEPS) % STEPS
    parts = []
    for room in range(ROOMS):
        daily = rng.lognormal(0.0, 0.15, days)[day]
        kw = (0.05 + 0.3 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.15) * daily) * rng.lognormal(
            0.0, 0.07, len(ts)
        )
        if room + 1 == HEAVY:
            uses = rng.random(days) < 0.65
            uses[list(QUIET)] = False
            first = rng.integers(76, 84, size=days)
            length = rng.integers(8, 16, size=days)
            kw = kw + 2.5 * (uses[day] & (slot >= first[day]) & (slot < first[day] + length[day]))
            if left_on:  # the appliance left on for three days from the second detected day
                on = (day >= TRAIN_DAYS + 1) & (day < TRAIN_DAYS + 4)
                kw = kw + 2.5 * on
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=18.0, kw=kw))
    return pd.concat(parts, ignore_index=True)


def _since(frame: pd.DataFrame) -> pd.Timestamp:
    return frame["ts"].min() + pd.Timedelta(days=TRAIN_DAYS)


def test_the_appliance_back_after_a_quiet_held_back_week_raises_no_alarm() -> None:
    frame = _hostel()
    assert consumption_alarms(frame, _since(frame), rooms=ROOMS).get(HEAVY, []) == []


def test_its_spreads_are_those_of_its_usual_week() -> None:
    frame = _hostel()
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < _since(frame)].reset_index(drop=True))
    heavy = model.meters[HEAVY]
    others = [model.meters[m] for m in range(2, ROOMS + 1)]
    assert heavy.block_scale[20 // 4] > 3 * np.median([s.block_scale[20 // 4] for s in others])
    assert heavy.win_scale[1] > 2 * np.median([s.win_scale[1] for s in others])  # the four-hour window's


def test_the_appliance_left_on_for_days_is_still_found() -> None:
    frame = _hostel(left_on=True)
    kinds = consumption_alarms(frame, _since(frame), rooms=ROOMS).get(HEAVY, [])
    assert "sustained_excess" in kinds or "drift" in kinds


def test_one_week_with_an_incident_does_not_widen_the_usual_week() -> None:
    days = 28
    ts = pd.date_range("2025-10-01", periods=days * STEPS, freq="15min", tz="UTC")
    rows = room_rows(room=0, ts=ts, hour=ts.hour.to_numpy().astype(float), temp=18.0, kw=np.full(len(ts), 0.3))
    rows["hour_i"] = ts.hour.to_numpy()
    rel = np.tile(np.linspace(-0.1, 0.1, STEPS), days)
    rel[(ts >= ts[0] + pd.Timedelta(days=7)) & (ts < ts[0] + pd.Timedelta(days=10))] += 5.0  # three days of excess
    cut = ts[0] + pd.Timedelta(days=days)
    blocks, scales = usual_week_spreads([0.05] * 6, [0.05, 0.03, 0.02], rows, rel, cut, 0.0)
    assert max(blocks) < 0.2
    assert max(scales) < 0.2
