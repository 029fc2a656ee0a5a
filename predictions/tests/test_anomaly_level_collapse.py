"""A meter whose level collapsed in its recent weeks must not teach the shared model its old readings.

The booster learns each reading as a multiple of its meter's recent level. Cambridge's b117 fell to almost nothing
in spring 2019: its level hit the 0.001 floor and its winter readings became labels of 18,000. The trees every
building shares then expected 2,820 kWh of b9 at noon and 0 at 09:00 in the cold weeks both had seen, and b9's
ordinary mornings read as spikes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly import AnomalyBaseline
from predictions.tests.weather_rooms import SHAPE, STEPS, room_rows

DAYS = 56
COLD_DAYS = 14  # the first two weeks are cold; then the collapsed building uses almost nothing
START = pd.Timestamp("2025-01-06", tz="UTC")  # a Monday
STEADY, COLLAPSED = 1, 2  # meter ids of two buildings


def buildings() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    ts = pd.date_range(START, periods=DAYS * STEPS, freq="15min")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(DAYS * STEPS) // STEPS
    temp = np.where(day < COLD_DAYS, 1.0, 10.0)
    parts = []
    for room in (STEADY - 1, COLLAPSED - 1):
        kw = 20 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.1, DAYS)[day] * rng.lognormal(0.0, 0.05, len(ts))
        if room + 1 == COLLAPSED:
            kw[day >= COLD_DAYS] = 0.0004  # a trickle: its level is the floor, its cold weeks thousands of it
        rows = room_rows(room=room, ts=ts, hour=hour, temp=temp, kw=kw, occupants=np.nan)
        parts.append(rows.assign(is_main=1.0, bed_type=0.0, capacity=0.0, hostel_id=room + 1))
    return pd.concat(parts, ignore_index=True)


def test_a_collapsed_building_leaves_the_other_buildings_expectations_as_they_were() -> None:
    frame = buildings()
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame)
    assert model.meters[COLLAPSED].scale <= 0.001  # its level went to the floor, as b117's did
    cold_day = frame[
        (frame["meter_id"] == STEADY)
        & (frame["ts"] >= START + pd.Timedelta(days=9))
        & (frame["ts"] < START + pd.Timedelta(days=10))
    ]
    pred = model.predict(cold_day.reset_index(drop=True), with_iforest=False)
    ratio = pred.expected / cold_day["kwh"].to_numpy()
    # The steady building's cold day is expected within a factor of two, hour by hour; not thousands of times over.
    assert float(np.max(ratio)) < 2.0
    assert float(np.min(ratio)) > 0.5
