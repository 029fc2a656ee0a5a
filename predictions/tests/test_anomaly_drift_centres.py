"""A room whose use creeps up day after day is found: the held-back week no longer re-centres it on its own rise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly_features import MeterStats
from predictions.ml.anomaly_rooms import centres_from_peers, own_trends, steady_rooms
from predictions.tests.test_anomaly_term_start import SHAPE
from predictions.tests.weather_rooms import consumption_alarms

ROOMS, STEPS, DAYS = 8, 96, 42
DRIFT_FROM, TRAIN_DAYS = 24, 35  # the drift starts 11 days before the retrain: the held-back week is in it
DRIFTING, MOVED = 1, 2


def _hostel() -> pd.DataFrame:
    """Eight lived-in rooms; room 1 draws up to 2.5 times its use by the end (a failing appliance, say)."""
    rng = np.random.default_rng(11)
    ts = pd.date_range("2025-03-03", periods=DAYS * STEPS, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(DAYS * STEPS) // STEPS
    parts = []
    for room in range(1, ROOMS + 1):
        daily = rng.lognormal(0.0, 0.15, DAYS)[day]
        kw = (0.05 + 0.6 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.15) * daily) * rng.lognormal(0, 0.07, len(ts))
        if room == DRIFTING:
            kw *= 1.0 + 1.5 * np.clip((day + hour / 24 - DRIFT_FROM) / (DAYS - DRIFT_FROM), 0.0, 1.0)
        parts.append(
            pd.DataFrame(
                {
                    "meter_id": room,
                    "hostel_id": 1,
                    "room_id": room,
                    "ts": ts,
                    "kwh": kw / 4,
                    "interval_h": 0.25,
                    "hour": hour,
                    "dow": ts.day_of_week.to_numpy().astype(float),
                    "temp": 18.0,
                    "occupants": 2.0,
                    "capacity": 2.0,
                    "bed_type": 2.0,
                    "is_main": 0.0,
                    "calendar": 1.0,
                    "voltage": 230.0,
                    "current": kw / 0.23,
                    "pf": 0.97,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_a_room_drifting_through_the_held_back_week_is_found_and_its_peers_are_not() -> None:
    frame = _hostel()
    cut = frame["ts"].min() + pd.Timedelta(days=TRAIN_DAYS)
    alarms = set(consumption_alarms(frame, cut, rooms=ROOMS))
    assert alarms == {DRIFTING}


def _stats(centre: float) -> MeterStats:
    return MeterStats(scale=1.0, sigma=0.2, bias=centre, q1=-0.2, q3=0.2, tier="own", days=30, win_med=[centre] * 3)


def test_rooms_with_the_same_residents_take_their_peers_centre_and_lose_only_their_own_trend() -> None:
    n = 4 * 96  # four days: two of level weeks, two held back
    rows = pd.DataFrame(
        {
            "meter_id": np.repeat(np.arange(1, 7), n),
            "hostel_id": 1,
            "ts": np.tile(pd.date_range("2025-03-03", periods=n, freq="15min", tz="UTC"), 6),
            "occupants": 2.0,
            "capacity": 2.0,
            "is_main": 0.0,
        }
    )
    held = pd.Series(np.tile(np.arange(n) >= n // 2, 6))
    rows.loc[(rows["meter_id"] == MOVED) & held, "occupants"] = 4.0  # two more residents in the held-back week
    steady = steady_rooms(rows, held, rows[~held])
    assert steady == set(range(1, 7)) - {MOVED}
    # Every room's residual rises 0.1 a day (the weather turning); the drifting room's 0.5 a day.
    days = np.tile(np.arange(n) / 96, 6)
    rows["rel"] = 0.1 * days + np.where(rows["meter_id"] == DRIFTING, 0.4 * days, 0.0)
    trends = own_trends(rows, held, steady)
    assert abs(trends[DRIFTING][0] - 0.4) < 0.02  # (its ends clipped: a trend is not its extremes)
    assert all(abs(trends[m][0]) < 1e-6 for m in steady - {DRIFTING})
    meters = {m: _stats(0.0) for m in range(1, 7)} | {DRIFTING: _stats(0.4), MOVED: _stats(0.3)}
    centres_from_peers(meters, steady, rows)
    assert meters[DRIFTING].win_med == [0.0, 0.0, 0.0]
    assert meters[DRIFTING].bias == 0.0
    assert meters[MOVED].win_med == [0.3, 0.3, 0.3]  # its level weeks do not describe it: its own centre stays
