"""The expected band on an alert's chart is the band detection judges a single reading by, hour by hour."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from meters.simulation.labelled import labelled_campus_build
from predictions.detection import baseline_train
from predictions.detection.baselines import baseline_current
from predictions.detection.evidence import BAND_SIGMAS, meter_band_series
from predictions.detection.frames import frame_load

pytestmark = pytest.mark.django_db


def test_the_band_widens_and_narrows_with_the_spread_of_each_block_of_the_day() -> None:
    campus = labelled_campus_build(days=14, incident_days=7, seed=5, kinds=("spike",))
    baseline_train(end=campus.end - dt.timedelta(days=2))
    loaded = baseline_current(retrain=False)
    assert loaded is not None
    model = loaded[0]
    start, end = campus.end - dt.timedelta(days=2), campus.end
    # A room meter whose blocks of the day have spreads of their own, unlike its whole day's.
    chosen = None
    for meter_id, stats in sorted(model.meters.items()):
        if stats.tier == "own" and stats.block_scale and max(stats.block_scale) > 1.2 * min(stats.block_scale):
            frame = frame_load(meter_ids=[meter_id], start=start, end=end)
            if not frame.empty and frame["is_main"].iloc[0] == 0:
                chosen = (meter_id, stats, frame)
                break
    assert chosen is not None, "no room meter with block spreads of its own: the test would prove nothing"
    meter_id, stats, frame = chosen
    series = meter_band_series(meter_id=meter_id, start=start, end=end)
    prediction = model.predict(frame, with_iforest=False)
    interval_h = frame["interval_h"].to_numpy(dtype=float)
    denom_h = prediction.denom / interval_h
    expected = np.asarray(series.expected, dtype=float)
    high = np.asarray(series.high, dtype=float)
    # The band's upper edge, in spreads of the relative residual, at each reading's local hour.
    spreads = ((high - expected) / denom_h - stats.win_med[0]) / BAND_SIGMAS
    judged = np.broadcast_to(stats.point_scale(frame["hour"].to_numpy(dtype=float)), spreads.shape)
    np.testing.assert_allclose(spreads, judged, rtol=1e-3, atol=1e-4)
    assert not np.allclose(judged, stats.win_scale[0]), "the blocks' spreads must differ from the day's here"
