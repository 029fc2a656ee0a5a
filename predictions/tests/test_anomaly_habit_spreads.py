"""A habit the held-back week happened not to show (an evening appliance run on no evening of that week) is still the
room's habit the week after. Known and not fixed: a room's spreads come from its held-back week alone (seed 70766
early summer, 5 false alarms in one week; docs/internals.md, "tried and not kept")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predictions.tests.weather_rooms import consumption_alarms, evening_room_kw, quarter_hours, room_rows

ROOMS = 8
HEAVY = 1  # the room with a 3 kW appliance on two evenings in three
TRAIN_DAYS, DETECT_DAYS = 28, 7
HELD_BACK = TRAIN_DAYS - 7  # the first day of the week the baseline measures its spreads on


def _hostel(*, held_back_start: tuple[int, int], spike_at: int | None = None) -> pd.DataFrame:
    """Eight lived-in rooms; room 1 runs a 3 kW appliance for 1.5-2.5 hours on two evenings in three, switched on
    anywhere from 18:00 to 21:00, except in the held-back week (from slot `held_back_start[0]` up to
    `held_back_start[1]`). `spike_at`: a 4 kW half hour on room 1 at that slot of the detection week's third day."""
    rng = np.random.default_rng(7)
    days = TRAIN_DAYS + DETECT_DAYS
    ts, hour, day, slot = quarter_hours(days)
    parts = []
    for room in range(ROOMS):
        kw = evening_room_kw(rng, ts, day, days)
        if room + 1 == HEAVY:
            uses = rng.random(days) < 0.67
            first = rng.integers(72, 84, size=days)  # 18:00 to 21:00
            held = (np.arange(days) >= HELD_BACK) & (np.arange(days) < TRAIN_DAYS)
            first[held] = rng.integers(*held_back_start, size=int(held.sum()))
            length = rng.integers(6, 10, size=days)
            kw = kw + 3.0 * (uses[day] & (slot >= first[day]) & (slot < first[day] + length[day]))
            if spike_at is not None:
                kw = kw + 4.0 * ((day == TRAIN_DAYS + 2) & (slot >= spike_at) & (slot < spike_at + 2))
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=18.0, kw=kw))
    return pd.concat(parts, ignore_index=True)


def _since(frame: pd.DataFrame) -> pd.Timestamp:
    return frame["ts"].min() + pd.Timedelta(days=TRAIN_DAYS)


@pytest.mark.xfail(strict=True, reason="spreads from the held-back week alone: a habit it did not show reads as excess")
def test_an_appliance_the_held_back_week_never_saw_raises_no_alarm_and_a_daytime_spike_is_still_found() -> None:
    # Switched on after midnight all the held-back week (so on no evening of it), yet not quiet enough for the
    # week to count as unsettled: its evenings looked calm, and the appliance the week after read as 20-35 spreads.
    frame = _hostel(held_back_start=(96, 97), spike_at=14 * 4)
    assert consumption_alarms(frame, _since(frame), rooms=ROOMS).get(HEAVY, []) == ["spike"]
