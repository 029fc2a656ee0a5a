"""Celery adapters for detection, forecasting, segmentation, failure risk and retraining."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from celery import shared_task
from django.db import transaction

from predictions.forecasting.series import subjects_all
from predictions.services import (
    anomalies_detect,
    baseline_drift_check,
    baseline_train,
    detection_run_started,
    detection_slices,
    detection_sweep,
    failure_risks_compute,
    feedback_sync_from_alerts,
    forecaster_train_one,
    forecasts_fill_actuals,
    forecasts_produce,
    history_scan_fail,
    history_scan_step,
    initial_training_run,
    job_run,
    model_artifacts_prune,
    models_train,
    pending_claim,
    pending_finish,
    segments_train,
)


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
    """Retrain the segmentation and the failure-risk model, and queue one forecaster training per subject."""

    def work() -> dict[str, Any]:
        report = models_train(families=("segmentation", "failure"))
        # One task a subject: a university's 54 forecasters in one task neared its hour (docs/scaling.md),
        # and more workers on the training queue share them.
        subjects = subjects_all()
        for subject in subjects:
            transaction.on_commit(partial(forecaster_train_subject.delay, kind=subject.kind, pk=subject.pk))
        return report | {"forecast_subjects_queued": len(subjects)}

    return job_run(job="models_retrain_weekly", work=work)


@shared_task(name="predictions.tasks.forecaster_train_subject", acks_late=True, time_limit=20 * 60)
def forecaster_train_subject(*, kind: str, pk: int) -> dict[str, Any]:
    """Train one hostel's, transformer's or site's forecaster."""
    return job_run(job="forecaster_train", work=lambda: forecaster_train_one(kind=kind, pk=pk))


# --- Detection (issue 5) ---


@shared_task(
    name="predictions.tasks.detect_meters", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3
)
def detect_meters(*, meter_ids: list[int], start: str, end: str) -> dict[str, Any]:
    """Detect on the new intervals of the meters of one ingested batch."""
    first, last = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    return anomalies_detect(meter_ids=meter_ids, start=first, end=last).summary()


@shared_task(name="predictions.tasks.detect_requested", acks_late=True)
def detect_requested(*, meter_ids: list[int], start: str, end: str, user_id: int) -> dict[str, Any]:
    """Detect over a range a user asked for (POST /api/v1/detection/run), on the imports queue."""
    detection_run_started(user_id=user_id)
    summary: dict[str, Any] = {}
    first, last = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    for begin, finish in detection_slices(first, last):  # memory bounded however long the range
        for key, value in anomalies_detect(meter_ids=meter_ids, start=begin, end=finish).summary().items():
            summary[key] = round(summary.get(key, 0) + value, 3)
    return summary


@shared_task(
    bind=True,
    name="predictions.tasks.detect_pending",
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=3,
)
def detect_pending(self: Any, *, digest: str) -> dict[str, Any]:
    """Detect over everything ingested for one meter set since its last run (see detection.streaming)."""
    task_id = str(self.request.id)
    claimed = pending_claim(digest=digest, task_id=task_id)
    if claimed is None:
        pending_finish(digest=digest, task_id=task_id)
        return {"readings": 0, "skipped": "nothing pending"}
    meter_ids, first, last = claimed
    summary: dict[str, Any] = {}
    # In slices: a worker that fell behind gets a long range, and its memory must not grow with it.
    # Detection merges an incident that crosses a slice's end into the next slice's (as across batches).
    for start, end in detection_slices(first, last):
        for key, value in anomalies_detect(meter_ids=meter_ids, start=start, end=end).summary().items():
            summary[key] = round(summary.get(key, 0) + value, 3)
    summary["more"] = pending_finish(digest=digest, task_id=task_id)
    return summary


@shared_task(name="predictions.tasks.detection_sweep")
def detection_sweep_task() -> dict[str, Any]:
    """Every 15 minutes: detect over the last hours of every meter, catching anything streaming missed."""
    feedback_sync_from_alerts()
    return detection_sweep().summary()


@shared_task(name="predictions.tasks.baseline_retrain", time_limit=3600)
def baseline_retrain() -> dict[str, Any]:
    """Weekly: retrain the anomaly baseline; it replaces the current one only if at least as good."""
    feedback_sync_from_alerts()
    version = baseline_train()
    return {"version": version.pk, "status": version.status, "seconds": version.training_seconds}


@shared_task(name="predictions.tasks.baseline_drift_check")
def baseline_drift_check_task() -> dict[str, Any]:
    """Daily: check recent residuals for drift and retrain when a fifth of the meters drifted."""
    report = baseline_drift_check()
    if report["drift"]:
        version = baseline_train()
        return report | {"retrained": version.pk, "status": version.status}
    return report


# --- Scans of stored history and the first training (issue 24) ---


@shared_task(bind=True, name="predictions.tasks.history_scan_step", acks_late=True, max_retries=3)
def history_scan_step_task(self: Any, *, scan_id: int, train: bool = False) -> dict[str, Any]:
    """Scan the next chunk of meters of a history scan, or train its next era's baseline (`train`), and queue
    what follows (the next chunk or era, or the summaries)."""
    try:
        return history_scan_step(scan_id=scan_id, train=train)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            history_scan_fail(scan_id=scan_id, error=error)
            raise
        raise self.retry(exc=error, countdown=15) from error


@shared_task(name="predictions.tasks.initial_training", acks_late=True, time_limit=60 * 60)
def initial_training_task(*, family: str) -> dict[str, Any]:
    """The first training of one model family (forecast, segmentation, failure) and its first output."""
    return initial_training_run(family=family)


@shared_task(name="predictions.tasks.model_artifacts_prune", acks_late=True)
def model_artifacts_prune_task() -> dict[str, Any]:
    """Daily: remove model artifacts nobody will load again (predictions.retention)."""
    return model_artifacts_prune()
