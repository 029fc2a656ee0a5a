"""Residents coming back at the start of term are expected at an occupied room's level, not at vacation standby."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predictions.ml.anomaly import AnomalyBaseline

ROOMS = 8
STAY = (0, 1)  # two rooms keep their residents through the vacation
VACATION_DAYS, BACK_DAYS = 42, 7
STEPS = 96
SHAPE = np.array([3, 2, 1.5, 1, 1, 1, 1.5, 3, 4, 3, 2.5, 2.5, 3, 3, 2.5, 2.5, 3, 4, 5, 6, 6, 5.5, 5, 4]) / 3.2


def _hostel(term_days: int) -> tuple[pd.DataFrame, pd.Timestamp]:
    """`term_days` of term, a six-week vacation with six rooms empty (standby 0.05 kW), then everyone back."""
    rng = np.random.default_rng(5)
    days = term_days + VACATION_DAYS + BACK_DAYS
    ts = pd.date_range("2025-06-01", periods=days * STEPS, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(days * STEPS) // STEPS
    back = ts[(term_days + VACATION_DAYS) * STEPS]
    away = (day >= term_days) & (day < term_days + VACATION_DAYS)
    parts = []
    for room in range(ROOMS):
        occupants = np.where(away & (room not in STAY), 0.0, 2.0)
        daily = rng.lognormal(0.0, 0.15, days)[day]
        use = 0.3 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.15) * daily
        kw = (0.05 + np.where(occupants > 0, use, 0.0)) * rng.lognormal(0.0, 0.07, len(ts))
        parts.append(
            pd.DataFrame(
                {
                    "meter_id": room + 1,
                    "hostel_id": 1,
                    "ts": ts,
                    "kwh": kw / 4,
                    "interval_h": 0.25,
                    "hour": hour,
                    "dow": ts.day_of_week.to_numpy().astype(float),
                    "temp": 18.0,
                    "occupants": occupants,
                    "capacity": 2.0,
                    "bed_type": 2.0,
                    "is_main": 0.0,
                    "calendar": np.where(away, 3.0, 1.0),
                    "voltage": 230.0,
                    "current": kw / 0.23,
                    "pf": 0.97,
                }
            )
        )
    rooms = pd.concat(parts, ignore_index=True)
    # The main meter: its rooms plus corridors and kitchens (1 kW), with the hostel's occupants.
    main = rooms.groupby("ts", as_index=False).agg(kwh=("kwh", "sum"), occupants=("occupants", "sum"))
    main = main.merge(rooms[rooms["meter_id"] == 1].drop(columns=["kwh", "occupants", "meter_id"]), on="ts")
    main = main.assign(meter_id=ROOMS + 1, kwh=main["kwh"] + 0.25, capacity=2.0 * ROOMS, bed_type=0.0, is_main=1.0)
    main["current"] = main["kwh"] * 4 / 0.23
    return pd.concat([rooms, main[rooms.columns]], ignore_index=True), back


@pytest.mark.parametrize("term_days", [0, 21], ids=["window-all-vacation", "term-then-vacation"])
def test_rooms_empty_all_vacation_are_expected_at_their_occupied_level_when_residents_return(term_days: int) -> None:
    frame, back = _hostel(term_days)
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < back].reset_index(drop=True))
    window = frame[frame["ts"] >= back].reset_index(drop=True)
    pred = model.predict(window, with_iforest=False)
    window["expected"] = pred.expected
    sums = window.groupby("meter_id")[["kwh", "expected"]].sum()
    ratio: pd.Series = sums["expected"] / sums["kwh"]
    returning = ratio.drop(index=[r + 1 for r in STAY] + [ROOMS + 1])
    assert returning.between(0.7, 1.3).all(), ratio.round(2).to_dict()
    # Their level is an occupied room's, not the vacation's standby.
    vacated = model.meters[3]
    assert vacated.scale > 2 * 0.05


def test_a_main_meter_whose_window_was_all_vacation_is_expected_as_the_sum_of_its_rooms() -> None:
    frame, back = _hostel(0)
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < back].reset_index(drop=True))
    assert set(model.main_common) == {ROOMS + 1}
    rooms, common = model.main_common[ROOMS + 1]
    assert rooms == ROOMS
    assert np.allclose(common, 1.0, atol=0.1)  # the 1 kW no room meter sees
    window = frame[frame["ts"] >= back].reset_index(drop=True)
    main = window["meter_id"].to_numpy() == ROOMS + 1
    actual = window.loc[main, "kwh"].sum()
    own = model.predict(window, with_iforest=False, peers=False).expected[main].sum() / actual
    bottom_up = model.predict(window, with_iforest=False, peers=True).expected[main].sum() / actual
    assert own < 0.8  # the main's own model never saw the hostel full
    assert 0.85 <= bottom_up <= 1.15
