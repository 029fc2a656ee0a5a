"""The baseline's training scores its readings in bounded slices, and the slices change nothing it learns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import predictions.ml.anomaly as anomaly
from predictions.tests.weather_rooms import SHAPE, STEPS, room_rows

ROOMS, DAYS = 6, 21


@pytest.fixture(scope="module")
def campus() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    ts = pd.date_range("2025-10-01", periods=DAYS * STEPS, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    temp = 10.0 + 4.0 * np.cos(2 * np.pi * (hour - 15) / 24) + rng.normal(0, 0.5, len(ts))
    parts = []
    for room in range(ROOMS):
        kw = (0.05 + 0.3 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.2)) * rng.lognormal(0, 0.1, len(ts))
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=temp, kw=kw))
    return pd.concat(parts, ignore_index=True)


def _trained(frame: pd.DataFrame) -> tuple[dict, bytes, anomaly.Prediction]:
    model = anomaly.AnomalyBaseline(n_estimators=20)
    metrics = model.train(frame)
    metrics.pop("training_seconds")
    assert model.booster is not None
    return (
        metrics | {"meters": model.meters, "peer_usual": model.peer_usual, "offset": model.iforest_offset},
        bytes(model.booster.save_raw("ubj")),
        model.predict(frame, peers=True),
    )


def test_training_scores_readings_in_slices_no_larger_than_the_chunk(
    campus: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    predict = xgb.Booster.predict

    def recording(self: xgb.Booster, data: xgb.DMatrix, *args: object, **kwargs: object) -> np.ndarray:
        sizes.append(data.num_row())
        return predict(self, data, *args, **kwargs)

    monkeypatch.setattr(xgb.Booster, "predict", recording)
    monkeypatch.setattr(anomaly, "PREDICT_CHUNK_ROWS", 1_000, raising=False)  # fails on size, not name
    anomaly.AnomalyBaseline(n_estimators=20).train(campus)
    assert len(campus) > 10_000
    assert sizes
    assert max(sizes) <= 1_000


def test_the_slices_change_neither_the_model_nor_its_scores(
    campus: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anomaly, "PREDICT_CHUNK_ROWS", 10**9)
    whole, whole_booster, whole_pred = _trained(campus)
    monkeypatch.setattr(anomaly, "PREDICT_CHUNK_ROWS", 777)
    sliced, sliced_booster, sliced_pred = _trained(campus)
    assert sliced == whole
    assert sliced_booster == whole_booster
    for name in ("expected", "z", "z_short", "z_long", "seasonal_z", "iforest"):
        np.testing.assert_array_equal(getattr(sliced_pred, name), getattr(whole_pred, name))


def test_sampling_the_fit_rows_by_label_picks_the_rows_sampling_their_copy_picked(campus: pd.DataFrame) -> None:
    keep = (campus["ts"] < campus["ts"].max() - pd.Timedelta(days=7)).to_numpy()
    copied = campus[keep].sample(5_000, random_state=0)
    by_label = campus.index[keep].to_series().sample(5_000, random_state=0)
    assert list(copied.index) == list(by_label)
