from __future__ import annotations

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

PREDICTION_SCHEDULES = {
    "Forecasts hourly": "predictions.tasks.forecasts_hourly",
    "Customer segmentation daily": "predictions.tasks.segmentation_daily",
    "Transformer failure risk daily": "predictions.tasks.failure_risk_daily",
    "Model retraining weekly": "predictions.tasks.models_retrain_weekly",
}


@pytest.mark.django_db
def test_forecasting_schedules_exist_after_migrate_and_point_at_real_tasks() -> None:
    from config.celery import app

    app.loader.import_default_modules()
    for name, task in PREDICTION_SCHEDULES.items():
        assert PeriodicTask.objects.get(name=name).task == task
        assert task in app.tasks


@pytest.mark.django_db
def test_segmentation_runs_daily_at_two() -> None:
    crontab = PeriodicTask.objects.get(name="Customer segmentation daily").crontab
    assert (crontab.minute, crontab.hour) == ("0", "2")


@pytest.mark.django_db
def test_forecasting_schedules_survive_a_rerun_of_setup_with_an_admins_edit() -> None:
    PeriodicTask.objects.filter(name="Forecasts hourly").update(enabled=False)
    call_command("setup_schedules")
    assert PeriodicTask.objects.filter(name="Forecasts hourly").count() == 1
    assert PeriodicTask.objects.get(name="Forecasts hourly").enabled is False


@pytest.mark.django_db
def test_a_task_run_is_recorded_with_its_duration_and_outcome(settings, tmp_path) -> None:
    from predictions.models import JobRun
    from predictions.tasks import segmentation_daily

    settings.ML_MODELS_DIR = tmp_path
    result = segmentation_daily.apply().get()
    run = JobRun.objects.get(job="segmentation_daily")
    assert run.seconds is not None
    assert run.outcome == result["outcome"] == "partial"  # no customers yet: a clear status, not a crash
