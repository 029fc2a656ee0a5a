"""A room a vacation's stayer kept lit is learnt at its full level, not at the stayer's (the start of autumn term)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly_features import level_rows
from predictions.tests.test_anomaly_unsettled_rooms import ROOMS, TRAIN_DAYS, _hostel
from predictions.tests.weather_rooms import consumption_alarms

STAYER, EMPTIED = 4, 5


def _summer() -> pd.DataFrame:
    """The hostel of `_hostel`, in a summer: full for three days, then one of room 4's two residents stays
    while room 5 empties; everyone else stays full (their level is the full room's either way)."""
    frame = _hostel()
    day = ((frame["ts"] - frame["ts"].min()).dt.total_seconds() // 86400).to_numpy()
    summer = day >= 3
    frame.loc[summer & (frame["meter_id"] == STAYER).to_numpy(), "occupants"] = 1.0
    frame.loc[summer & (frame["meter_id"] == EMPTIED).to_numpy(), "occupants"] = 0.0
    return frame


def test_a_room_is_levelled_on_its_fullest_occupancy_not_on_a_vacation_stayer() -> None:
    frame = _summer()
    recent = pd.Series(frame["ts"] >= frame["ts"].max() - pd.Timedelta(days=28), index=frame.index)
    basis, unoccupied = level_rows(frame, recent)
    by_room = basis.groupby("meter_id")["occupants"]
    assert by_room.min()[STAYER] == 2.0  # its full days, not the 28 recent days of one stayer
    assert by_room.min()[EMPTIED] == 2.0  # as before: its occupied days anywhere in the window
    assert by_room.size()[6] == int(recent[frame["meter_id"] == 6].sum())  # a full room: its recent weeks
    assert not unoccupied
    assert np.isclose(by_room.size()[STAYER], 3 * 96)


def test_residents_back_with_a_summer_stayer_raise_no_alarm() -> None:
    """Room 4 full for three days, then one of two residents stays (half the room's use) until the retrain; both
    are in after it, as in every other room."""
    frame = _hostel()
    day = ((frame["ts"] - frame["ts"].min()).dt.total_seconds() // 86400).to_numpy()
    stayer = (frame["meter_id"] == STAYER).to_numpy() & (day >= 3) & (day < TRAIN_DAYS)
    frame.loc[stayer, "occupants"] = 1.0
    frame.loc[stayer, "kwh"] = 0.05 / 4 + (frame.loc[stayer, "kwh"] - 0.05 / 4) / 2
    cut = frame["ts"].min() + pd.Timedelta(days=TRAIN_DAYS)
    alarms = consumption_alarms(frame, cut, rooms=ROOMS)
    assert STAYER not in alarms, alarms
