from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from alerts.models import Alert
from meters.models import Meter, Reading
from meters.simulation.fleets import habit_campus_build
from meters.tests.factories import MeterFactory
from predictions.forecasting.series import Subject, zeros_as_missing
from predictions.forecasting.services import (
    _current_model,
    forecaster_train,
    forecasts_fill_actuals,
    forecasts_produce,
)
from predictions.ml.artifacts import IncompatibleArtifact, artifact_write
from predictions.ml.forecasting import (
    FAMILY,
    DemandForecaster,
    InsufficientHistory,
    SeriesInputs,
    ashrae_fit,
    metrics,
)
from predictions.models import Forecast, ModelVersion
from predictions.selectors import forecasts_for_user


@pytest.fixture(autouse=True)
def _models_dir(settings, tmp_path):
    settings.ML_MODELS_DIR = tmp_path


def _series(days: int = 45, *, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-01-01", periods=days * 24, freq="h", tz="UTC")
    shape = 1 + 0.8 * np.sin(2 * np.pi * (index.hour - 14) / 24) + 0.3 * (index.dayofweek < 5)
    return pd.Series(10 * shape * rng.lognormal(0, 0.05, len(index)), index=index)


def test_forecaster_trains_saves_loads_and_predicts() -> None:
    load = _series()
    model = DemandForecaster(horizon=48)
    inputs = SeriesInputs(load=load, timezone="Europe/London")
    model.train(inputs)
    model.save("forecast-test.pkl")
    loaded = DemandForecaster.load("forecast-test.pkl")
    origin = load.index.max() + pd.Timedelta(hours=1)
    hourly = loaded.predict(inputs, origin=origin, horizon=48)
    assert len(hourly) == 48
    assert (hourly["lower"] <= hourly["yhat"]).all()
    assert (hourly["yhat"] <= hourly["upper"]).all()
    assert hourly["yhat"].mean() == pytest.approx(load[-24 * 7 :].mean(), rel=0.25)
    daily = loaded.predict_daily(inputs, origin=origin, days=30)
    assert len(daily) == 30
    assert (daily["yhat"] > 0).all()


def test_the_hourly_boosters_fit_on_one_thread_so_a_shared_worker_does_not_spin() -> None:
    # Two OpenMP threads on cores PostgreSQL and the other workers use: 35x the wall time (docs/scaling.md).
    model = DemandForecaster(horizon=24)
    model.train(SeriesInputs(load=_series(30)))
    assert model.boosters is not None
    for booster in model.boosters:
        assert json.loads(booster.save_config())["learner"]["generic_param"]["nthread"] == "1"


def test_a_level_that_moved_since_training_is_corrected_from_the_models_own_recent_errors(monkeypatch) -> None:
    """20 % more load from a day after training on (a cold snap, say): the model's day-ahead forecasts of
    the last week ran 20 % low, and the next forecast is scaled up by that much."""
    from predictions.ml import forecasting

    load = _series(60)
    step = load.index[0] + pd.Timedelta(days=41)
    load[load.index >= step] *= 1.2
    inputs = SeriesInputs(load=load[load.index < load.index[0] + pd.Timedelta(days=58)], timezone="Europe/London")
    model = DemandForecaster(horizon=24)
    model.train(inputs, until=load.index[0] + pd.Timedelta(days=40))
    origin = load.index[0] + pd.Timedelta(days=58)
    actual = load[(load.index >= origin) & (load.index < origin + pd.Timedelta(hours=24))].mean()
    corrected = model.predict(inputs, origin=origin, horizon=24)["yhat"].mean()
    monkeypatch.setattr(forecasting, "BIAS_SHARE", 0.0)
    uncorrected = model.predict(inputs, origin=origin, horizon=24)["yhat"].mean()
    assert abs(corrected / actual - 1) < 0.06
    assert abs(uncorrected / actual - 1) > abs(corrected / actual - 1) + 0.04


def test_forecaster_refuses_an_artifact_of_another_format_version() -> None:
    artifact_write(
        name="forecast-old.pkl", family=FAMILY, format_version=DemandForecaster.FORMAT_VERSION + 1, payload={}
    )
    with pytest.raises(IncompatibleArtifact):
        DemandForecaster.load("forecast-old.pkl")


def test_a_series_with_no_history_is_reported_not_crashed() -> None:
    empty = pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    with pytest.raises(InsufficientHistory):
        DemandForecaster().train(SeriesInputs(load=pd.concat([empty, _series(5)])))


def test_all_zero_weeks_are_reported_not_crashed() -> None:
    zeros = _series() * 0
    with pytest.raises(InsufficientHistory):
        DemandForecaster(horizon=24).train(SeriesInputs(load=zeros))


def test_a_constant_series_trains_and_forecasts_the_constant() -> None:
    constant = _series() * 0 + 5.0
    model = DemandForecaster(horizon=24)
    inputs = SeriesInputs(load=constant)
    model.train(inputs)
    hourly = model.predict(inputs, origin=constant.index.max() + pd.Timedelta(hours=1), horizon=24)
    assert np.allclose(hourly["yhat"], 5.0, rtol=0.05)


def test_metrics_score_only_hours_with_an_actual_and_gate_on_ashrae() -> None:
    actual = np.array([10.0, np.nan, 10.0, 10.0])
    scores = metrics(actual, np.array([11.0, 50.0, 9.0, 10.0]), naive=np.array([12.0, 1.0, 8.0, 10.0]))
    assert scores["n"] == 3
    assert scores["nmbe"] == pytest.approx(0.0)
    assert scores["mase"] == pytest.approx(0.5)
    assert ashrae_fit(scores)
    assert not ashrae_fit({"cv_rmse": 0.35, "nmbe": 0.0})


def test_exact_zeros_are_missing_only_where_the_meter_never_reads_zero() -> None:
    gappy = _series()
    gappy.iloc[5] = 0.0
    assert np.isnan(zeros_as_missing(gappy).iloc[5])
    vacant = _series() * (np.arange(45 * 24) % 48 < 24)
    assert (zeros_as_missing(vacant) == 0).sum() > 0


@pytest.mark.django_db
def test_backtest_forecast_json_prints_the_agreed_keys_on_the_last_line() -> None:
    meter = MeterFactory.create(serial="BT-1", kind=Meter.Kind.FEEDER, room=None, interval_minutes=15)
    load = _series(50)
    Reading.objects.bulk_create(
        Reading(meter=meter, timestamp=(at + pd.Timedelta(minutes=15 * q)).to_pydatetime(), kwh=v / 4)
        for at, v in zip(pd.DatetimeIndex(load.index), load.to_numpy(), strict=True)
        for q in range(4)
    )
    out = StringIO()
    call_command(
        "backtest_forecast",
        "--meter",
        "BT-1",
        "--train-until",
        "2025-02-10",
        "--until",
        "2025-02-19",
        "--json",
        stdout=out,
    )
    payload = json.loads(out.getvalue().strip().splitlines()[-1])
    for key in ("cv_rmse", "nmbe", "mape", "mase", "naive_cv_rmse", "prophet_cv_rmse"):
        assert key in payload
    assert payload["cv_rmse"] < payload["naive_cv_rmse"]
    assert payload["hours_scored"] == 9 * 24


@pytest.mark.django_db
def test_backtest_forecast_on_a_meter_with_no_readings_gives_a_status() -> None:
    MeterFactory.create(serial="EMPTY", kind=Meter.Kind.FEEDER, room=None)
    out = StringIO()
    call_command(
        "backtest_forecast",
        "--meter",
        "EMPTY",
        "--train-until",
        "2025-02-10",
        "--until",
        "2025-02-19",
        "--json",
        stdout=out,
    )
    payload = json.loads(out.getvalue().strip().splitlines()[-1])
    assert payload["status"] == "insufficient_history"
    assert payload["cv_rmse"] is None


@pytest.mark.django_db
def test_training_a_subject_without_history_records_a_failed_version() -> None:
    campus = habit_campus_build(days=3, rooms_per_hostel=2, hostels=1)
    hostel = campus.hostels[0]
    version = forecaster_train(subject=Subject("hostel", hostel.pk, hostel.code, hostel.site_id), now=campus.end)
    assert version.status == ModelVersion.Status.FAILED
    assert "history" in version.note


@pytest.mark.django_db(transaction=True)
def test_hourly_run_stores_forecasts_fills_actuals_and_raises_capacity_alerts(settings) -> None:
    campus = habit_campus_build(days=45, rooms_per_hostel=4, hostels=1)
    settings.FORECAST_CAPACITY_SHARE = 0.5
    summary = forecasts_produce(now=campus.end - dt.timedelta(days=2))
    assert summary["ok"] == summary["subjects"] == 3  # hostel, transformer, site
    hostel = campus.hostels[0]
    hourly = Forecast.objects.filter(subject_kind="hostel", subject_id=hostel.pk, horizon="hourly")
    assert hourly.count() == 72
    assert Forecast.objects.filter(subject_kind="site", horizon="daily").count() == 30
    code = campus.transformers[0].code
    assert [w["transformer_code"] for w in summary["capacity_warnings"]] == [code]
    alert = Alert.objects.get(kind="transformer_capacity")  # raised once the forecasts committed
    assert alert.title.startswith(f"Transformer {code} forecast at ")
    assert forecasts_fill_actuals(now=campus.end) >= 48
    scored = hourly.filter(actual__isnull=False)
    errors = [abs(f.yhat - f.actual) / f.actual for f in scored]
    assert np.mean(errors) < 0.3
    version = ModelVersion.objects.get(subject=f"hostel:{hostel.code}", status="current")
    assert version.fit is not None
    assert "day_ahead" in version.metrics


@pytest.mark.django_db
def test_an_unreadable_artifact_means_retraining_not_a_crash() -> None:
    campus = habit_campus_build(days=30, rooms_per_hostel=2, hostels=1)
    hostel = campus.hostels[0]
    subject = Subject("hostel", hostel.pk, hostel.code, hostel.site_id)
    version = forecaster_train(subject=subject, now=campus.end)
    artifact_write(name=version.artifact, family=FAMILY, format_version=99, payload={})
    newer, model = _current_model(subject=subject, now=campus.end)
    assert newer.pk != version.pk
    assert model.boosters is not None


@pytest.mark.django_db
def test_warden_b_cannot_see_hostel_a_forecasts(campus, warden_a, warden_b, manager) -> None:
    at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for hostel in (campus.hostel_a, campus.hostel_b):
        Forecast.objects.create(
            subject_kind="hostel",
            subject_id=hostel.pk,
            hostel=hostel,
            horizon="hourly",
            target=at,
            issued_at=at,
            yhat=1,
            lower=0.5,
            upper=1.5,
        )
    Forecast.objects.create(
        subject_kind="site",
        subject_id=campus.hostel_a.site_id,
        site=campus.hostel_a.site,
        horizon="hourly",
        target=at,
        issued_at=at,
        yhat=2,
        lower=1,
        upper=3,
    )
    assert set(forecasts_for_user(user=warden_b).values_list("hostel", flat=True)) == {campus.hostel_b.pk}
    assert set(forecasts_for_user(user=warden_a).values_list("hostel", flat=True)) == {campus.hostel_a.pk}
    assert forecasts_for_user(user=manager).count() == 3
