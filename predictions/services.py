"""Writes of predictions, in one place: each is defined in the module named for its model family.

Tasks, commands, the API and receivers call these. Detection (`predictions.detection`): anomalies
from readings, baselines and their drift, history scans, on-demand and streaming runs. Forecasting
(`predictions.forecasting`). Segmentation (`predictions.segmentation`). Failure risk
(`predictions.failure_risk`). Training all families (`predictions.training`) and the first training
on a new install (`predictions.initial_training`, `predictions.firstrun`).
"""

from predictions.detection import anomalies_detect, baseline_drift_check, baseline_train, detection_sweep
from predictions.detection.baselines import feedback_sync_from_alerts
from predictions.detection.history import history_scan_fail, history_scan_request, history_scan_step
from predictions.detection.ondemand import detection_run_request, detection_run_started
from predictions.detection.streaming import detection_request, detection_slices, pending_claim, pending_finish
from predictions.failure_risk import failure_risks_compute, failure_train
from predictions.firstrun import first_run_queue
from predictions.forecasting.runs import job_run
from predictions.forecasting.services import forecasts_fill_actuals, forecasts_produce
from predictions.initial_training import initial_training_ensure, initial_training_run
from predictions.retention import model_artifacts_prune
from predictions.segmentation import segments_train
from predictions.training import FAMILIES, forecaster_train_one, models_train

__all__ = [
    "FAMILIES",
    "anomalies_detect",
    "baseline_drift_check",
    "baseline_train",
    "detection_request",
    "detection_run_request",
    "detection_run_started",
    "detection_slices",
    "detection_sweep",
    "failure_risks_compute",
    "failure_train",
    "feedback_sync_from_alerts",
    "first_run_queue",
    "forecaster_train_one",
    "forecasts_fill_actuals",
    "forecasts_produce",
    "history_scan_fail",
    "history_scan_request",
    "history_scan_step",
    "initial_training_ensure",
    "initial_training_run",
    "job_run",
    "model_artifacts_prune",
    "models_train",
    "pending_claim",
    "pending_finish",
    "segments_train",
]
