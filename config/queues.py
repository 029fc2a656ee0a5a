"""Which Celery queue each task goes to (docs/queues.md): four kinds of work, each with workers of its own.

- `live`: alerts and notifications (raise, emails, webhooks, pushes, escalation, summaries, digests),
  the heartbeat, stale meters and the watch over lost upload imports (not on `imports`: it must run
  while an import worker is stuck or gone). Nothing long runs here, so an alert never waits behind a long job.
- `detection`: detection of what ingestion just stored (streaming), the sweep that catches what it
  missed, and the meter health scores (hourly, and daily with alerts).
- `training`: model training and the nightly model runs (forecasts, segments, failure risk, the anomaly
  baseline), savings measurements (a model fit each) and model-artifact retention.
- `imports`: files confirmed on the upload page, history scans of imported readings, detection runs a
  user asks for over a past range (at most DETECTION_RUNS_QUEUED_MAX queued per user), readings
  partitions, the raw-readings archive and the clean-up of uploads and the quarantine.

Every task is routed here by name; tests/hardening/test_queues.py fails on a task without a route.
Data only: config/settings.py reads it into CELERY_TASK_QUEUES and CELERY_TASK_ROUTES.
"""

from __future__ import annotations

LIVE = "live"
DETECTION = "detection"
TRAINING = "training"
IMPORTS = "imports"

# In this order: the embedded mode starts the live lane first (config/embedded.py).
QUEUES: tuple[str, ...] = (LIVE, DETECTION, TRAINING, IMPORTS)

TASKS_BY_QUEUE: dict[str, tuple[str, ...]] = {
    LIVE: (
        "alerts.tasks.alert_raise",
        "alerts.tasks.alert_email_send",
        "alerts.tasks.webhook_deliver",
        "alerts.tasks.push_deliver",
        "alerts.tasks.history_summary_deliver",
        "alerts.tasks.daily_summary_deliver",
        "alerts.tasks.daily_summaries_due",
        "alerts.tasks.deliveries_send_held",
        "alerts.tasks.deliveries_requeue_pending",
        "alerts.tasks.alerts_escalate_due",
        "alerts.tasks.alerts_unsnooze_due",
        "alerts.tasks.alert_events_prune",
        "analytics.tasks.system_heartbeat",
        "analytics.tasks.digests_send_due",
        "meters.tasks.meters_check_stale",
        "meters.tasks.uploads_recover",
    ),
    DETECTION: (
        "predictions.tasks.detect_pending",
        "predictions.tasks.detect_meters",
        "predictions.tasks.detection_sweep",
        "analytics.tasks.meter_health_check",
        "analytics.tasks.meter_health_refresh",
    ),
    TRAINING: (
        "predictions.tasks.forecasts_hourly",
        "predictions.tasks.segmentation_daily",
        "predictions.tasks.failure_risk_daily",
        "predictions.tasks.models_retrain_weekly",
        "predictions.tasks.forecaster_train_subject",
        "predictions.tasks.baseline_retrain",
        "predictions.tasks.baseline_drift_check",
        "predictions.tasks.initial_training",
        "predictions.tasks.model_artifacts_prune",
        "analytics.tasks.intervention_measure",
        "analytics.tasks.interventions_measure_nightly",
    ),
    IMPORTS: (
        "meters.tasks.upload_import",
        "predictions.tasks.history_scan_step",
        "predictions.tasks.detect_requested",
        "meters.tasks.readings_partitions_ensure",
        "meters.tasks.readings_archive_due",
        "meters.tasks.uploads_clean_stale",
        "meters.tasks.quarantine_prune",
    ),
}

ROUTES: dict[str, dict[str, str]] = {
    task: {"queue": queue} for queue, tasks in TASKS_BY_QUEUE.items() for task in tasks
}
