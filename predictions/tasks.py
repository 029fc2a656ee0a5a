"""Celery adapters for forecasting, segmentation, failure risk and retraining (each run is recorded)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from predictions.forecasting.risk import failure_risks_compute
from predictions.forecasting.runs import job_run
from predictions.forecasting.segments import segments_train
from predictions.forecasting.services import forecasts_fill_actuals, forecasts_produce
from predictions.forecasting.training import models_train


@shared_task(name="predictions.tasks.forecasts_hourly", acks_late=True)
def forecasts_hourly() -> dict[str, Any]:
    """Fill actuals of past forecasts, then forecast every hostel, transformer and site."""

    def work() -> dict[str, Any]:
        filled = forecasts_fill_actuals()
        return {"actuals_filled": filled} | forecasts_produce()

    return job_run(job="forecasts_hourly", work=work)


@shared_task(name="predictions.tasks.segmentation_daily", acks_late=True)
def segmentation_daily() -> dict[str, Any]:
    """Re-segment customers from their recent profiles (names stay stable)."""

    def work() -> dict[str, Any]:
        version = segments_train()
        return {"status": "ok" if version.status == "current" else version.status, "k": version.metrics.get("k")}

    return job_run(job="segmentation_daily", work=work)


@shared_task(name="predictions.tasks.failure_risk_daily", acks_late=True)
def failure_risk_daily() -> dict[str, Any]:
    """Score every transformer's failure risk with the current model."""
    return job_run(job="failure_risk_daily", work=failure_risks_compute)


@shared_task(name="predictions.tasks.models_retrain_weekly", acks_late=True, time_limit=60 * 60)
def models_retrain_weekly() -> dict[str, Any]:
    """Retrain all forecasters, the segmentation and the failure-risk model."""
    return job_run(job="models_retrain_weekly", work=lambda: models_train())
