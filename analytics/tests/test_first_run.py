"""The first run: the system page shows the history scan and first training; the dashboard fills without waiting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from conftest import client_for
from predictions.models import HistoryScan, InitialTraining

NOT_YET = ("No forecast yet", "No transformer risk scores yet", "No segments yet")


@pytest.fixture
def eager() -> Iterator[None]:
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.mark.django_db
def test_the_system_page_shows_history_scan_and_first_training_progress_to_admins_only(
    admin: Any, manager: Any, warden_a: Any
) -> None:
    now = timezone.now()
    HistoryScan.objects.create(
        key="first-run",
        reason=HistoryScan.Reason.FIRST_RUN,
        start=now - dt.timedelta(days=120),
        end=now,
        meters_total=128,
        meters_done=45,
        findings=23,
        status=HistoryScan.Status.RUNNING,
        started_at=now,
    )
    InitialTraining.objects.create(
        family="forecast", status=InitialTraining.Status.RUNNING, started_at=now, note="3 of 8 subjects"
    )
    InitialTraining.objects.create(family="segmentation", status=InitialTraining.Status.DONE, seconds=31.6)
    InitialTraining.objects.create(family="failure")
    body = client_for(admin).get(reverse("system")).content.decode()
    assert "History scans and first training" in body
    assert '<td class="num">45 / 128</td><td class="num">23</td>' in body
    assert "First run" in body
    assert "3 of 8 subjects" in body
    assert "31.6" in body
    assert "queued" in body  # the failure model has not started
    for user in (manager, warden_a):
        assert client_for(user).get(reverse("system")).status_code == 403


class _FlatForecaster:
    """Stands in for the fitted Prophet + XGBoost forecaster, which takes minutes to fit (see test_forecasting)."""

    timezone = "Europe/London"

    def predict(self, inputs: Any, *, origin: pd.Timestamp, horizon: int) -> pd.DataFrame:
        targets = pd.date_range(origin, periods=horizon, freq="h")
        return pd.DataFrame({"target": targets, "yhat": 5.0, "lower": 4.0, "upper": 6.0})

    def predict_daily(self, inputs: Any, *, origin: pd.Timestamp, days: int) -> pd.DataFrame:
        first = origin.tz_convert(self.timezone).date()
        return pd.DataFrame(
            {"day": [first + dt.timedelta(days=i) for i in range(days)], "yhat": 120.0, "lower": 100.0, "upper": 140.0}
        )


@pytest.mark.django_db(transaction=True)
def test_every_dashboard_panel_is_filled_after_the_first_run_without_waiting_for_the_schedules(
    eager: None, manager: Any, settings: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    from meters.simulation.fleets import failing_fleet_build, habit_campus_build
    from predictions import initial_training as initial
    from predictions.forecasting import services
    from predictions.models import ModelVersion

    settings.ML_MODELS_DIR = tmp_path
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    habit_campus_build(days=28, rooms_per_hostel=8, hostels=1, end=end)
    failing_fleet_build(end=end)
    # Segmentation and failure risk train for real; the forecaster's fit is stood in for (minutes of CPU).
    monkeypatch.setattr(
        initial,
        "forecaster_train",
        lambda *, subject: ModelVersion.objects.create(
            family="forecast", subject=subject.key, format_version=1, status=ModelVersion.Status.CURRENT
        ),
    )
    monkeypatch.setattr(
        services,
        "_current_model",
        lambda *, subject, now: (ModelVersion.objects.get(subject=subject.key, status="current"), _FlatForecaster()),
    )
    monkeypatch.setattr(initial, "_subjects", lambda: [s for s in initial.subjects_all() if s.kind == "site"])
    monkeypatch.setattr(initial, "forecasts_produce", lambda: services.forecasts_produce(kinds=("site",)))
    client = client_for(manager)
    before = client.get(reverse("dashboard")).content.decode()
    assert all(text in before for text in NOT_YET)
    assert initial.initial_training_ensure() == ["failure", "segmentation", "forecast"]  # run by the worker
    assert dict(InitialTraining.objects.values_list("family", "status")) == {
        "forecast": "done",
        "segmentation": "done",
        "failure": "done",
    }, list(InitialTraining.objects.values_list("family", "note"))
    after = client.get(reverse("dashboard")).content.decode()
    assert [text for text in NOT_YET if text in after] == []
    assert initial.initial_training_ensure() == []  # the next start: nothing to do
