"""Health: the same answer on /health and /api/v1/health, 503 only when the database or Redis is down,
and a model-artifacts check that fails when a current version cannot be loaded."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from analytics.selectors.health import DatabaseCheck, DataFreshnessCheck, health_checks, health_summary
from analytics.services import HEARTBEAT_KEY, heartbeat_record
from predictions.ml.artifacts import artifact_write
from predictions.models import ModelVersion

NAMES = ["database", "redis", "worker", "model_artifacts", "data_freshness"]


@pytest.fixture(autouse=True)
def _no_heartbeat() -> Iterator[None]:
    """With Redis the heartbeat outlives a test (only the analytics keys are cleared between tests)."""
    cache.delete(HEARTBEAT_KEY)
    yield
    cache.delete(HEARTBEAT_KEY)


@pytest.fixture(autouse=True)
def models_dir(settings: Any, tmp_path: Path) -> Path:
    settings.ML_MODELS_DIR = tmp_path / "ml_models"
    return settings.ML_MODELS_DIR


def _checks(path: str = "/api/v1/health") -> tuple[int, dict[str, Any], dict[str, dict[str, Any]]]:
    response = Client().get(path)
    body = response.json()
    return response.status_code, body, {check["name"]: check for check in body["checks"]}


def _current(family: str, artifact: str, subject: str = "") -> ModelVersion:
    return ModelVersion.objects.create(
        family=family, subject=subject, format_version=1, status=ModelVersion.Status.CURRENT, artifact=artifact
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/api/v1/health"])
def test_both_health_urls_answer_status_and_one_row_per_check(path: str) -> None:
    heartbeat_record(worker="worker-1")
    status, body, checks = _checks(path)
    assert status == 200
    assert set(body) == {"status", "checks"}
    assert body["status"] == "ok"
    assert [check["name"] for check in body["checks"]] == NAMES
    assert all(set(check) == {"name", "ok", "detail"} for check in body["checks"])
    assert checks["database"]["ok"] is True
    assert checks["redis"]["ok"] is True
    assert checks["worker"]["ok"] is True
    assert re.fullmatch(r"last heartbeat \d+ s ago from worker-1", checks["worker"]["detail"])
    assert checks["model_artifacts"] == {"name": "model_artifacts", "ok": True, "detail": "no trained versions yet"}


@pytest.mark.django_db
def test_a_worker_without_a_heartbeat_is_reported_but_the_answer_stays_200() -> None:
    status, body, checks = _checks()
    assert status == 200
    assert body["status"] == "ok"
    assert checks["worker"] == {"name": "worker", "ok": False, "detail": "no heartbeat yet"}


@pytest.mark.django_db
def test_a_heartbeat_older_than_three_intervals_fails_the_worker_check(settings: Any) -> None:
    settings.HEARTBEAT_SECONDS = 30
    heartbeat_record(worker="worker-1")
    later = timezone.now() + dt.timedelta(seconds=95)
    worker = next(check for check in health_checks(now=later) if check.name == "worker")
    assert worker.ok is False
    assert re.fullmatch(r"last heartbeat (9[5-9]|1\d\d) s ago from worker-1", worker.detail)
    assert next(check for check in health_checks() if check.name == "worker").ok is True


@pytest.mark.django_db
def test_model_artifacts_check_fails_when_a_current_versions_file_is_missing(models_dir: Path) -> None:
    artifact_write(name="anomaly-v1.pkl", family="anomaly", format_version=1, payload={"fitted": True})
    _current("anomaly", "anomaly-v1.pkl")
    forecast = _current("forecast", "forecast-hostel-3-v2.pkl", subject="hostel:3")  # recorded, never written
    status, body, checks = _checks()
    assert status == 200  # models inform; only the database and Redis make the answer a 503
    assert body["status"] == "ok"
    artifacts = checks["model_artifacts"]
    assert artifacts["ok"] is False
    assert artifacts["detail"] == (
        f"1 of 2 current version(s): forecast version {forecast.pk} (hostel:3): forecast-hostel-3-v2.pkl missing"
    )
    artifact_write(name="forecast-hostel-3-v2.pkl", family="forecast", format_version=1, payload=[1, 2, 3])
    assert _checks()[2]["model_artifacts"] == {
        "name": "model_artifacts",
        "ok": True,
        "detail": "2 current version(s), artifacts readable",
    }


@pytest.mark.django_db
def test_model_artifacts_check_fails_on_a_truncated_or_foreign_file_or_a_version_without_one(
    models_dir: Path,
) -> None:
    path = artifact_write(name="failure-v1.pkl", family="failure", format_version=1, payload=list(range(1000)))
    path.write_bytes(path.read_bytes()[:-200])
    (models_dir / "segments.pkl").write_bytes(b"not a model at all")
    (models_dir / "empty.pkl").write_bytes(b"")
    failure = _current("failure", "failure-v1.pkl")
    segmentation = _current("segmentation", "segments.pkl")
    anomaly = _current("anomaly", "")
    forecast = _current("forecast", "empty.pkl", subject="site:syn")
    detail = _checks()[2]["model_artifacts"]["detail"]
    assert detail.startswith("4 of 4 current version(s): ")
    assert f"anomaly version {anomaly.pk}: records no artifact file" in detail
    assert f"failure version {failure.pk}: failure-v1.pkl truncated" in detail
    assert f"forecast version {forecast.pk} (site:syn): empty.pkl empty" in detail
    assert "(and 1 more)" in detail
    assert f"segmentation version {segmentation.pk}" not in detail  # the fourth is counted, not listed
    segmentation.status = ModelVersion.Status.RETIRED  # only current versions are loaded, so only they count
    segmentation.save()
    assert _checks()[2]["model_artifacts"]["detail"].startswith("3 of 3 current version(s): ")


@pytest.mark.django_db
def test_health_answers_503_with_the_same_shape_when_redis_is_down(settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    for path in ("/health", "/api/v1/health"):
        status, body, checks = _checks(path)
        assert status == 503
        assert body["status"] == "fail"
        assert [check["name"] for check in body["checks"]] == NAMES
        assert checks["redis"] == {
            "name": "redis",
            "ok": False,
            "detail": "Unable to connect to Redis: Connection Error",
        }
        assert checks["database"]["ok"] is True


@pytest.mark.django_db
def test_a_database_check_that_cannot_connect_fails_the_summary_without_naming_the_server() -> None:
    summary = health_summary(checks=[DatabaseCheck(alias="replica"), DataFreshnessCheck()])
    assert summary == {
        "status": "fail",
        "checks": [
            {"name": "database", "ok": False, "detail": "ConnectionDoesNotExist"},
            {"name": "data_freshness", "ok": True, "detail": "no readings yet"},
        ],
    }
