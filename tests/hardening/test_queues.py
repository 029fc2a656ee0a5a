"""Issue 25 and 29: live alerts never wait behind detection, training or imports. Four queues (config/queues.py),
every task routed to one of them by name, beat's schedules included, a worker per queue in docker-compose
and a worker thread per queue in the embedded mode."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
import yaml
from celery import shared_task
from django.conf import settings

from config import queues
from config.celery import app

ROOT = Path(__file__).resolve().parents[2]
FOUR = {"live", "detection", "training", "imports"}

_finished: dict[str, float] = {}
_release = threading.Event()


def _hold(queue: str) -> None:
    _release.wait(30)
    _finished[queue] = time.monotonic()


@shared_task(name="config.tests.hold_detection", queue="detection")
def _hold_detection() -> None:
    _hold("detection")


@shared_task(name="config.tests.hold_training", queue="training")
def _hold_training() -> None:
    _hold("training")


@shared_task(name="config.tests.hold_imports", queue="imports")
def _hold_imports() -> None:
    _hold("imports")


@shared_task(name="config.tests.live_job", queue="live")
def _live_job() -> None:
    _finished["live"] = time.monotonic()


def _product_tasks() -> list[str]:
    """Every task a worker registers, less Celery's own and this test module's."""
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith(("celery.", "config.tests.")))


def _queue_of(task: str) -> str:
    return str(app.amqp.router.route({}, task)["queue"].name)


def test_there_are_four_queues_and_the_default_is_the_live_one() -> None:
    assert set(settings.CELERY_TASK_QUEUES) == FOUR
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "live"


def test_every_registered_task_has_a_route_to_one_of_the_four_queues() -> None:
    tasks = _product_tasks()
    assert {task.split(".")[0] for task in tasks} == {"alerts", "analytics", "meters", "predictions"}
    unrouted = [task for task in tasks if task not in settings.CELERY_TASK_ROUTES]
    assert unrouted == [], f"tasks without a route in config/queues.py: {unrouted}"
    for task in tasks:
        assert _queue_of(task) in FOUR, task
    # ... and no route names a task that no longer exists (a rename would leave its new name unrouted).
    assert sorted(set(settings.CELERY_TASK_ROUTES) - set(tasks)) == []


@pytest.mark.parametrize(
    ("queue", "task"),
    [
        ("imports", "meters.tasks.upload_import"),
        ("live", "alerts.tasks.alert_raise"),
        ("live", "alerts.tasks.alert_email_send"),
        ("live", "alerts.tasks.webhook_deliver"),
        ("live", "alerts.tasks.push_deliver"),
        ("live", "alerts.tasks.alerts_escalate_due"),
        ("live", "analytics.tasks.system_heartbeat"),
        ("detection", "predictions.tasks.detect_pending"),
        ("detection", "predictions.tasks.detect_meters"),
        ("detection", "predictions.tasks.detection_sweep"),
        ("training", "predictions.tasks.initial_training"),
        ("training", "predictions.tasks.forecasts_hourly"),
        ("training", "predictions.tasks.models_retrain_weekly"),
        ("training", "predictions.tasks.forecaster_train_subject"),
        ("training", "predictions.tasks.baseline_retrain"),
        ("training", "analytics.tasks.intervention_measure"),
        ("imports", "predictions.tasks.history_scan_step"),
        # A user's detection runs over past ranges (capped per user: DETECTION_RUNS_QUEUED_MAX, issue 12)
        # wait with the imports, never in front of live detection.
        ("imports", "predictions.tasks.detect_requested"),
        ("imports", "meters.tasks.readings_archive_due"),
    ],
)
def test_each_kind_of_work_goes_to_its_queue(queue: str, task: str) -> None:
    assert task in app.tasks
    assert _queue_of(task) == queue


@pytest.mark.django_db
def test_beat_sends_each_schedule_to_its_tasks_queue() -> None:
    """Beat (django-celery-beat) sends a row with the row's own queue when it has one: the rows made from
    analytics.schedules have none, so each lands where config/queues.py routes its task."""
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from analytics.schedules import schedules

    expected = {task: queue for queue, tasks in queues.TASKS_BY_QUEUE.items() for task in tasks}
    landed: dict[str, str] = {}
    for schedule in schedules():
        entry = ModelEntry(PeriodicTask.objects.get(name=schedule.name), app=app)
        assert "queue" not in entry.options, f"{schedule.name}: a fixed queue would bypass the routes"
        landed[schedule.name] = queue = str(app.amqp.router.route(entry.options, entry.task)["queue"].name)
        assert queue == expected[schedule.task], schedule.name
    assert set(landed.values()) == FOUR  # each queue has scheduled work
    assert landed["Escalate unacknowledged alerts"] == "live"
    assert landed["Model retraining weekly"] == "training"


def test_docker_compose_runs_a_scalable_worker_per_queue() -> None:
    """One service per queue, each consuming only its queue, with no container name and no host port
    (either would make `docker compose up --scale worker-training=2` fail)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    consumed: dict[str, str] = {}
    for name, service in compose["services"].items():
        match = re.search(r"celery -A config worker -Q (\S+)", str(service.get("command", "")))
        if match is None:
            continue
        assert "container_name" not in service, name
        assert not service.get("ports"), name
        assert match.group(1) in FOUR, (name, match.group(1))
        consumed[match.group(1)] = name
    assert set(consumed) == FOUR
    assert consumed["training"] == "worker-training"
    prometheus = (ROOT / "docs/monitoring/prometheus.yml").read_text()
    for service in consumed.values():
        assert service in prometheus, f"Prometheus does not scrape {service}"


@pytest.mark.skipif(not settings.EMBEDDED, reason="the embedded mode's in-process workers")
def test_an_embedded_live_task_runs_while_detection_training_and_imports_are_busy() -> None:
    from config.embedded import EmbeddedCelery

    embedded = EmbeddedCelery()
    assert [worker.hostname for worker in embedded.workers] == [  # type: ignore[attr-defined]
        f"embedded-{queue}@wattwatch" for queue in ("live", "detection", "training", "imports")
    ]
    embedded.start(beat=False)
    try:
        for hold in (_hold_detection, _hold_training, _hold_imports):
            hold.delay()
        time.sleep(1.0)  # each of those lanes has taken its long job
        _live_job.delay()
        deadline = time.monotonic() + 20
        while "live" not in _finished and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "live" in _finished, "the live task waited behind a long job"
        assert not {"detection", "training", "imports"} & set(_finished), "a long job ended before the live task"
    finally:
        _release.set()
        embedded.stop()
