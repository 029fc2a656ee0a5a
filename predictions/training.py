"""Training all forecasting, segmentation and failure-risk models (weekly, or on demand)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from predictions.failure_risk import failure_train
from predictions.forecasting.series import Subject, subjects_all
from predictions.forecasting.services import forecaster_train
from predictions.segmentation import segments_train

FAMILIES = ("forecast", "segmentation", "failure")


def forecaster_train_one(*, kind: str, pk: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """Train one subject's forecaster (the weekly retraining queues one of these per subject)."""
    subject: Subject | None = next((s for s in subjects_all() if s.kind == kind and s.pk == pk), None)
    if subject is None:  # removed since it was queued
        return {"subject": f"{kind}:{pk}", "status": "no_subject"}
    started = time.perf_counter()
    version = forecaster_train(subject=subject, now=now)
    return {
        "subject": subject.key,
        "status": "ok" if version.status == "current" else version.status,
        "version": version.pk,
        "fit": version.fit,
        "seconds": round(time.perf_counter() - started, 2),
    }


def models_train(*, families: tuple[str, ...] = FAMILIES, now: dt.datetime | None = None) -> dict[str, Any]:
    """Train the given families; returns seconds and outcome per family."""
    report: dict[str, Any] = {}
    if "forecast" in families:
        started = time.perf_counter()
        versions = [forecaster_train(subject=subject, now=now) for subject in subjects_all()]
        report["forecast"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "trained": sum(v.status == "current" for v in versions),
            "failed": [v.subject for v in versions if v.status != "current"],
            "unfit": [v.subject for v in versions if v.fit is False],
        }
    if "segmentation" in families:
        started = time.perf_counter()
        version = segments_train(now=now)
        report["segmentation"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "status": version.status,
            "note": version.note,
            "metrics": version.metrics,
        }
    if "failure" in families:
        started = time.perf_counter()
        version = failure_train(now=now)
        report["failure"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "status": version.status,
            "note": version.note,
            "metrics": version.metrics,
        }
    return report
