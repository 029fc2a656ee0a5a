"""Anomaly detection: baselines, detectors, incidents, explanations and the hand-off to alerts."""

from predictions.detection.baselines import (
    baseline_current,
    baseline_drift_check,
    baseline_train,
    detector_feedback_record,
    thresholds_learn,
)
from predictions.detection.detectors import DetectorConfig
from predictions.detection.handoff import anomalies_to_alerts
from predictions.detection.services import DetectionResult, anomalies_detect, detection_sweep, incidents_find

__all__ = [
    "DetectionResult",
    "DetectorConfig",
    "anomalies_detect",
    "anomalies_to_alerts",
    "baseline_current",
    "baseline_drift_check",
    "baseline_train",
    "detection_sweep",
    "detector_feedback_record",
    "incidents_find",
    "thresholds_learn",
]
