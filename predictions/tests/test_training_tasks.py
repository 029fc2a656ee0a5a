"""The weekly retraining queues one forecaster training per subject instead of training them all itself."""

from __future__ import annotations

from typing import Any

import pytest

from meters.simulation.fleets import habit_campus_build
from predictions import tasks
from predictions.forecasting.series import subjects_all
from predictions.models import JobRun, ModelVersion


@pytest.fixture(autouse=True)
def _models_dir(settings, tmp_path):
    settings.ML_MODELS_DIR = tmp_path


@pytest.mark.django_db
def test_weekly_retraining_queues_each_subjects_forecaster_as_its_own_task(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    habit_campus_build(days=3, rooms_per_hostel=2, hostels=2)
    trained: list[tuple[str, ...]] = []
    queued: list[dict[str, Any]] = []

    def models_train(*, families: tuple[str, ...]) -> dict[str, Any]:
        trained.append(families)
        return {}

    monkeypatch.setattr(tasks, "models_train", models_train)
    monkeypatch.setattr(tasks.forecaster_train_subject, "delay", lambda **kwargs: queued.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        summary = tasks.models_retrain_weekly()
    subjects = subjects_all()
    assert len(subjects) >= 3
    assert trained == [("segmentation", "failure")]
    assert sorted(queued, key=str) == sorted(({"kind": s.kind, "pk": s.pk} for s in subjects), key=str)
    assert summary["forecast_subjects_queued"] == len(subjects)


@pytest.mark.django_db
def test_a_subjects_task_trains_that_subject_and_records_the_run() -> None:
    campus = habit_campus_build(days=3, rooms_per_hostel=2, hostels=1)
    hostel = campus.hostels[0]
    summary = tasks.forecaster_train_subject(kind="hostel", pk=hostel.pk)
    version = ModelVersion.objects.get(family=ModelVersion.Family.FORECAST)
    assert version.subject == f"hostel:{hostel.code}"
    assert summary["subject"] == version.subject
    assert summary["status"] == ModelVersion.Status.FAILED  # three days is too little history
    assert JobRun.objects.get(job="forecaster_train").outcome == JobRun.Outcome.PARTIAL


@pytest.mark.django_db
def test_a_subject_removed_since_it_was_queued_is_reported_not_crashed() -> None:
    summary = tasks.forecaster_train_subject(kind="hostel", pk=999_999)
    assert summary["status"] == "no_subject"
    assert not ModelVersion.objects.exists()
