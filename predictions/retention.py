"""Model artifacts nobody will load again are removed from ML_MODELS_DIR; their versions' rows stay.

Every trained version is a row with its metrics, kept for good (the model pages and evaluations read
them). Its artifact file is only needed while it may be loaded: the current version of each family and
subject, the few retired before it (a rollback), and a history scan's era baselines while that scan
runs. Everything else would pile up: an era baseline is trained for each older month of every scan.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from predictions.ml.artifacts import artifact_path
from predictions.models import HistoryScan, ModelVersion

logger = logging.getLogger(__name__)

CANDIDATE_GRACE = dt.timedelta(days=7)  # a candidate not promoted within this is not going to be


def _remove(version: ModelVersion, *, why: str) -> bool:
    """Delete the version's artifact file (unless a current version uses the same file) and say why."""
    name = version.artifact
    if not name:
        return False
    with transaction.atomic():
        if ModelVersion.objects.filter(artifact=name, status=ModelVersion.Status.CURRENT).exclude(pk=version.pk):
            return False
        ModelVersion.objects.filter(pk=version.pk).update(artifact="", note=f"{version.note} {why}".strip())
    try:
        artifact_path(name).unlink(missing_ok=True)
    except (OSError, ValueError) as error:  # the row no longer points at it either way
        logger.warning("could not remove model artifact %s: %s", name, error)
    return True


def era_artifacts_release(*, scan: HistoryScan) -> int:
    """A finished scan's era baselines will not judge anything again: remove their artifacts."""
    ids = [row[2] for row in scan.eras if row[2] is not None and row[3]]
    released = 0
    for version in ModelVersion.objects.filter(pk__in=ids).exclude(status=ModelVersion.Status.CURRENT):
        released += _remove(version, why=f"Artifact removed when history scan {scan.pk} ended.")
    return released


def model_artifacts_prune(*, keep_retired: int | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Remove the artifacts no one will load: old retired versions past the newest `keep_retired` of each
    family and subject, rejected and failed ones, stale candidates, and era baselines of ended scans."""
    keep = settings.MODEL_ARTIFACTS_KEEP_RETIRED if keep_retired is None else keep_retired
    now = now or timezone.now()
    removed = {"retired": 0, "rejected": 0, "candidates": 0, "eras": 0}
    seen: dict[tuple[str, str], int] = {}
    retired = ModelVersion.objects.filter(status=ModelVersion.Status.RETIRED).exclude(artifact="")
    for version in retired.order_by("family", "subject", "-trained_at", "-pk"):
        slot = (version.family, version.subject)
        seen[slot] = seen.get(slot, 0) + 1
        if seen[slot] > keep:
            removed["retired"] += _remove(version, why="Artifact removed: older than the versions kept for rollback.")
    dead = ModelVersion.objects.filter(status__in=[ModelVersion.Status.REJECTED, ModelVersion.Status.FAILED])
    for version in dead.exclude(artifact=""):
        removed["rejected"] += _remove(version, why="Artifact removed: the version was not used.")
    in_use = _era_versions_of_unfinished_scans()
    stale = ModelVersion.objects.filter(status=ModelVersion.Status.CANDIDATE, trained_at__lt=now - CANDIDATE_GRACE)
    for version in stale.exclude(artifact="").exclude(pk__in=in_use):
        removed["candidates"] += _remove(version, why="Artifact removed: a candidate never made current.")
    for scan in HistoryScan.objects.exclude(status__in=[HistoryScan.Status.PENDING, HistoryScan.Status.RUNNING]):
        removed["eras"] += era_artifacts_release(scan=scan)
    return {"removed": removed, "kept_retired_per_subject": keep}


def _era_versions_of_unfinished_scans() -> set[int]:
    unfinished = HistoryScan.objects.filter(status__in=[HistoryScan.Status.PENDING, HistoryScan.Status.RUNNING])
    return {row[2] for scan in unfinished for row in scan.eras if row[2] is not None}
