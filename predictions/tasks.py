"""Celery adapters for detection: take ids and times, call one service, return a short summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task

from predictions.detection import anomalies_detect, baseline_drift_check, baseline_train, detection_sweep
from predictions.detection.baselines import feedback_sync_from_alerts


@shared_task(
    name="predictions.tasks.detect_meters", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3
)
def detect_meters(*, meter_ids: list[int], start: str, end: str) -> dict[str, Any]:
    """Detect on the new intervals of the meters of one ingested batch."""
    first, last = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    return anomalies_detect(meter_ids=meter_ids, start=first, end=last).summary()


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
