"""Artifacts of model versions nobody will load again are removed; every version's row and metrics stay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from predictions.ml.artifacts import artifact_write
from predictions.models import HistoryScan, ModelVersion
from predictions.retention import model_artifacts_prune

pytestmark = pytest.mark.django_db

Status = ModelVersion.Status


def _version(status: str, *, subject: str = "A-101", age_days: float = 0, family: str = "forecast") -> ModelVersion:
    version = ModelVersion.objects.create(
        family=family, subject=subject, format_version=1, status=status, metrics={"mape": 0.1}
    )
    version.artifact = f"{family}-{subject}-v{version.pk}.bin"
    version.save(update_fields=["artifact"])
    artifact_write(name=version.artifact, family=family, format_version=1, payload={"v": version.pk})
    ModelVersion.objects.filter(pk=version.pk).update(trained_at=timezone.now() - dt.timedelta(days=age_days))
    return version


def _has_file(version: ModelVersion, models_dir: Path) -> bool:
    return (models_dir / f"{version.family}-{version.subject}-v{version.pk}.bin").exists()


def test_prune_keeps_the_current_and_the_newest_retired_and_removes_the_rest(models_dir: Path, settings: Any) -> None:
    settings.MODEL_ARTIFACTS_KEEP_RETIRED = 2
    retired = [_version(Status.RETIRED, age_days=10 - i) for i in range(4)]  # oldest first
    current = _version(Status.CURRENT)
    other_subject = _version(Status.RETIRED, subject="A-102", age_days=30)
    rejected = _version(Status.REJECTED, age_days=1)
    fresh_candidate = _version(Status.CANDIDATE, age_days=1)
    stale_candidate = _version(Status.CANDIDATE, age_days=9)

    report = model_artifacts_prune()

    assert report["removed"] == {"retired": 2, "rejected": 1, "candidates": 1, "eras": 0}
    kept = [current, retired[2], retired[3], other_subject, fresh_candidate]
    gone = [retired[0], retired[1], rejected, stale_candidate]
    assert all(_has_file(v, models_dir) for v in kept)
    assert not any(_has_file(v, models_dir) for v in gone)
    for version in gone:  # the rows and their measurements stay, saying what happened to the file
        version.refresh_from_db()
        assert (version.artifact, version.metrics) == ("", {"mape": 0.1})
        assert "Artifact removed" in version.note
    assert ModelVersion.objects.count() == 9
    assert model_artifacts_prune()["removed"] == {"retired": 0, "rejected": 0, "candidates": 0, "eras": 0}


def test_an_era_baseline_of_a_running_scan_is_kept_until_the_scan_ends(models_dir: Path) -> None:
    era = _version(Status.CANDIDATE, family="anomaly", subject="", age_days=30)
    now = timezone.now()
    scan = HistoryScan.objects.create(
        key="first-run", reason="first_run", start=now - dt.timedelta(days=90), end=now, status="running",
        eras=[[now.isoformat(), now.isoformat(), None, False], [now.isoformat(), now.isoformat(), era.pk, True]],
    )  # fmt: skip
    model_artifacts_prune()
    assert _has_file(era, models_dir)
    HistoryScan.objects.filter(pk=scan.pk).update(status="done")
    assert model_artifacts_prune()["removed"]["candidates"] == 1
    assert not _has_file(era, models_dir)
