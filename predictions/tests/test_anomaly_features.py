"""The hostel-wide shift taken out of each room's residual before it is scored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly_features import PEER_MINIMUM, _common_mode
from predictions.ml.anomaly_peers import peer_usual_fit, peer_weather_kw


def _frame(rows: list[tuple[int, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "hostel_id": [hostel for hostel, _, _ in rows],
            "is_main": [main for _, main, _ in rows],
            "ts": pd.to_datetime([moment for _, _, moment in rows], utc=True),
        }
    )


def test_the_common_mode_is_the_rooms_median_at_each_moment_of_each_hostel() -> None:
    at, later = "2025-03-01T10:00:00+00:00", "2025-03-01T10:15:00+00:00"
    rows = [(1, 0, at)] * 6 + [(1, 0, later)] * 6 + [(2, 0, at)] * (PEER_MINIMUM - 1) + [(1, 1, at)]
    rel = np.array(
        [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]  # hostel 1 at 10:00: median 0.65
        + [-0.3] * 6  # hostel 1 at 10:15: below baseline, no shift taken out
        + [2.0] * (PEER_MINIMUM - 1)  # hostel 2: too few rooms to say
        + [5.0]  # a main meter is never shifted
    )
    shift = _common_mode(_frame(rows), rel)
    assert np.allclose(shift[:6], 0.65)
    assert np.allclose(shift[6:12], 0.0)
    assert np.allclose(shift[12 : 12 + PEER_MINIMUM - 1], 0.0)
    assert shift[-1] == 0.0


def test_moments_are_matched_as_instants_whatever_zone_they_are_written_in() -> None:
    utc = pd.Timestamp("2025-03-01T10:00:00+00:00")
    frame = pd.DataFrame(
        {
            "hostel_id": [1] * 6,
            "is_main": [0] * 6,
            # the same instant, three as UTC and three as Nairobi time: one moment, six rooms
            "ts": [utc] * 3 + [utc.tz_convert("Africa/Nairobi")] * 3,
        }
    )
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    shift = _common_mode(frame, np.array([1.0, 1.0, 1.0, 3.0, 3.0, 3.0]))
    assert np.allclose(shift, 2.0)


def _rooms_frame(present: list[bool], *, hostel: int = 1, main: bool = True) -> pd.DataFrame:
    """One moment of a hostel: rooms (capacity 2, occupied or not), then its main meter."""
    n = len(present)
    return pd.DataFrame(
        {
            "hostel_id": [hostel] * (n + int(main)),
            "is_main": [0.0] * n + [1.0] * int(main),
            "ts": pd.to_datetime(["2025-06-20T15:00:00+00:00"] * (n + int(main)), utc=True),
            "capacity": [2.0] * n + [0.0] * int(main),
            "occupants": [2.0 if p else 0.0 for p in present] + [0.0] * int(main),
        }
    )


def test_rooms_rising_together_in_kw_are_weather_and_a_room_far_above_them_keeps_its_excess() -> None:
    # Eight occupied rooms: six air conditioners draw 0.6-0.8 kW more than the baseline knows, two rooms
    # have none; one of the conditioned rooms also has a 2 kW fault. An empty room runs 0.5 kW.
    present = [True] * 8 + [False]
    resid = np.array([0.6, 0.65, 0.7, 0.75, 0.8, 2.7, 0.0, 0.02, 0.5, 0.0])
    frame = _rooms_frame(present)
    resid[-1] = resid[:9].sum()  # the main sees its rooms
    allowance = peer_weather_kw(frame, resid)
    # The upper quantile, but with at least two rooms above it: the fault does not set it.
    shared = 0.75
    assert np.allclose(allowance[:8], shared)
    assert resid[5] - allowance[5] >= 1.9  # the fault stands out
    assert max(resid[i] - allowance[i] for i in (0, 1, 2, 3, 4)) <= 0.1  # weather does not
    assert allowance[8] == 0.0  # an empty room gets no allowance for weather
    # The main is allowed what the shared rise explains in its rooms, not the fault or the empty room.
    explained = np.clip(resid[:8], 0.0, shared).sum()
    assert np.isclose(allowance[-1], explained)
    assert resid[-1] - allowance[-1] >= (resid[5] - shared) + 0.5 - 1e-9  # the fault beyond the rise, the empty room


def test_a_main_is_never_allowed_more_than_its_own_excess_and_too_few_occupied_rooms_allow_nothing() -> None:
    frame = _rooms_frame([True] * 6)
    resid = np.array([0.7] * 6 + [0.3])
    allowance = peer_weather_kw(frame, resid)
    assert np.isclose(allowance[-1], 0.3)
    few = _rooms_frame([True] * (PEER_MINIMUM - 1) + [False] * 4)
    resid = np.array([0.7] * (PEER_MINIMUM - 1) + [0.7] * 4 + [5.0])
    assert np.allclose(peer_weather_kw(few, resid), 0.0)


def test_hostels_are_peers_only_of_themselves() -> None:
    frame = pd.concat([_rooms_frame([True] * 6, hostel=1), _rooms_frame([True] * 6, hostel=2)], ignore_index=True)
    resid = np.array([1.0] * 6 + [6.0] + [0.0] * 6 + [0.0])
    allowance = peer_weather_kw(frame, resid)
    assert np.allclose(allowance[:6], 1.0)
    assert np.allclose(allowance[7:], 0.0)


def test_only_the_rise_above_the_hostels_usual_spread_at_that_hour_is_shared_weather() -> None:
    # Training: at 15:00 the rooms' upper quantile is usually 0.3 kW above baseline (people using things).
    days = pd.date_range("2025-05-01T15:00:00+00:00", periods=10, freq="1D")
    rows = []
    for day in days:
        frame = _rooms_frame([True] * 20, main=False)
        frame["ts"] = day
        rows.append(frame)
    training = pd.concat(rows, ignore_index=True)
    training["hour"] = 15.0
    resid = np.tile(np.linspace(-0.3, 0.4, 20), len(days))
    usual = peer_usual_fit(training, resid)
    assert set(usual) == {1}
    assert len(usual[1]) == 24
    assert 0.25 <= usual[1][15] <= 0.4
    # A hot afternoon: every room 0.8 kW higher than usual; only the 0.8 kW is allowed, not the usual spread.
    hot = _rooms_frame([True] * 20, main=False)
    hot["hour"] = 15.0
    allowance = peer_weather_kw(hot, np.linspace(-0.3, 0.4, 20) + 0.8, usual)
    assert np.allclose(allowance, 0.8, atol=0.01)
    # An ordinary afternoon: nothing is allowed.
    assert np.allclose(peer_weather_kw(hot, np.linspace(-0.3, 0.4, 20), usual), 0.0)


def test_a_room_whose_heater_slope_was_never_learnt_is_allowed_the_rise_its_neighbours_heaters_share() -> None:
    # The first cold snap in a hostel of forty occupied rooms. Nineteen have heaters drawing 1.0 kW: the
    # model learnt a slope for sixteen of them (it expects 0.8 kW of the draw, 0.2 kW is left), but not for
    # three noisy ones (all 1.0 kW is left). One heated room with a slope also has a 2 kW fault.
    frame = _rooms_frame([True] * 40, main=False)
    weather = np.array([0.8] * 16 + [0.0] * 3 + [0.0] * 21)
    resid = np.array([0.2] * 15 + [2.2] + [1.0] * 3 + [0.0] * 21)
    # Beyond the full expectations the upper quantile is what the slopes missed: the three rooms stay above it.
    before = peer_weather_kw(frame, resid)
    assert np.all(resid[16:19] - before[16:19] >= 0.75)
    allowance = peer_weather_kw(frame, resid, None, weather)
    assert np.allclose(allowance[16:19], 1.0)  # the heaters' shared draw, none of it expected by their slopes
    assert np.allclose(allowance[:15], 0.2)  # the rooms with a slope: the part of the draw it missed
    assert resid[15] - allowance[15] >= 1.9  # the fault stands out
