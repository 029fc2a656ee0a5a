"""The hostel-wide shift taken out of each room's residual before it is scored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly_features import PEER_MINIMUM, _common_mode


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
