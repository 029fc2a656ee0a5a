"""Issue 25: live alerts never wait behind detection, training or imports (separate queues and workers)."""

from __future__ import annotations

import threading
import time

import pytest
from celery import shared_task
from django.conf import settings

import alerts.tasks  # noqa: F401 - registers the tasks whose routes are checked
import predictions.tasks  # noqa: F401
from config.celery import app

_finished: dict[str, float] = {}
_release = threading.Event()


@shared_task(name="config.tests.long_job", queue="bulk")
def _long_job() -> None:
    _release.wait(30)
    _finished["long"] = time.monotonic()


@shared_task(name="config.tests.live_job")
def _live_job() -> None:
    _finished["live"] = time.monotonic()


@pytest.mark.parametrize(
    "task",
    [
        "predictions.tasks.initial_training",
        "predictions.tasks.history_scan_step",
        "predictions.tasks.forecasts_hourly",
        "predictions.tasks.models_retrain_weekly",
        "predictions.tasks.detection_sweep",
    ],
)
def test_training_scans_and_sweeps_go_to_the_bulk_queue(task: str) -> None:
    assert task in app.tasks
    assert app.amqp.router.route({}, task)["queue"].name == "bulk"


@pytest.mark.parametrize(
    "task",
    ["alerts.tasks.alert_raise", "predictions.tasks.detect_pending", "predictions.tasks.detect_meters"],
)
def test_alerts_and_live_detection_stay_on_the_live_queue(task: str) -> None:
    assert task in app.tasks
    assert app.amqp.router.route({}, task)["queue"].name == "celery"


@pytest.mark.skipif(not settings.EMBEDDED, reason="the embedded mode's in-process workers")
def test_an_embedded_live_task_runs_while_a_long_job_holds_the_bulk_worker() -> None:
    from config.embedded import EmbeddedCelery

    embedded = EmbeddedCelery()
    embedded.start(beat=False)
    try:
        _long_job.delay()
        time.sleep(0.5)  # the bulk worker has taken the long job
        sent = time.monotonic()
        _live_job.delay()
        deadline = sent + 20
        while "live" not in _finished and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "live" in _finished, "the live task waited behind the long job"
        assert "long" not in _finished
    finally:
        _release.set()
        embedded.stop()
