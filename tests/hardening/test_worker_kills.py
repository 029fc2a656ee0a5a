"""A Celery worker killed (SIGKILL) in the middle of detection or training, against real PostgreSQL and Redis:
the task comes back (late acknowledgement), its work is done once, and nothing half-made is used.

The first worker loads tests.hardening.stall, which makes one call inside the task hang until the
kill; the second worker runs the redelivered task normally.
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from alerts.models import Alert
from meters.simulation.fleets import habit_campus_build
from meters.simulation.labelled import labelled_campus_build
from predictions.detection import anomalies_detect, baseline_train
from predictions.detection.streaming import detection_request
from predictions.ml.segmentation import CustomerSegmenter
from predictions.models import Anomaly, JobRun, ModelVersion
from predictions.tasks import detect_meters, segmentation_daily
from tests.hardening.faults import start_worker, stop, subprocess_env, wait_for


def _task_log(task: str, event: str) -> re.Pattern[str]:
    return re.compile(rf"Task predictions\.tasks\.{task}\[[^\]]+\] {event}")


pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _flush_broker() -> None:
    import redis

    assert settings.REDIS_URL is not None
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def _kill_then_redeliver(
    *, tmp_path: Path, stall: str, call: int, enqueue: Any, done: Any, what: str, models: Path
) -> str:
    """Start a stalling worker, enqueue, kill it at the stall, start a clean one; the worker log."""
    marker = tmp_path / "stalled"
    log_path = tmp_path / "worker.log"
    env = subprocess_env(
        CELERY_VISIBILITY_TIMEOUT="2",
        ML_MODELS_DIR=str(models),
        FAULT_STALL_MARKER=str(marker),
        FAULT_STALL_CALL=str(call),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    with log_path.open("w") as log:
        first = start_worker(env, log, stall=stall)
        try:
            enqueue()
            wait_for(marker.exists, timeout=60, what=f"the first worker to stall in {what}")
        finally:
            stop(first, signal.SIGKILL)  # no acknowledgement: the message stays in Redis
        time.sleep(3)  # past the visibility timeout; the next worker's start-up scan restores it
        second = start_worker(env, log)
        try:
            wait_for(done, timeout=90, what=f"the redelivered {what}", every=0.5)
        finally:
            stop(second)
    return log_path.read_text()


@pytest.mark.parametrize("task", ["detect_pending", "detect_meters"])  # streaming (coalesced), and the API's
def test_worker_killed_mid_detection_redelivers_and_records_each_anomaly_once(tmp_path: Path, task: str) -> None:
    _flush_broker()
    received, succeeded = _task_log(task, "received"), _task_log(task, "succeeded")
    models = tmp_path / "models"
    models.mkdir()
    with override_settings(ML_MODELS_DIR=models):
        campus = labelled_campus_build(seed=3, days=14, incident_days=7, kinds=("sustained_excess", "voltage_sag"))
        baseline_train(end=campus.end - dt.timedelta(days=7))
        start, end = campus.end - dt.timedelta(days=7), campus.end
        meter_ids = [meter.pk for meter in campus.meters]

        def enqueue() -> None:
            if task == "detect_pending":  # as a committed ingest batch asks for it
                assert detection_request(meter_ids=meter_ids, start=start, end=end)
            else:
                detect_meters.delay(meter_ids=meter_ids, start=start.isoformat(), end=end.isoformat())

        log = _kill_then_redeliver(
            tmp_path=tmp_path,
            stall="predictions.detection.services:_upsert",
            call=2,  # one anomaly is already written when the worker dies
            enqueue=enqueue,
            done=lambda: succeeded.search((tmp_path / "worker.log").read_text()),
            what="detection",
            models=models,
        )
        assert len(received.findall(log)) == 2, log[-3000:]  # delivered, killed, delivered again
        keys = list(Anomaly.objects.values_list("meter_id", "kind", "start"))
        assert len(keys) == len(set(keys)) >= 2, "each incident once, none doubled by the second delivery"
        # The redelivered run did all of the work: running it again finds nothing new.
        assert anomalies_detect(meter_ids=meter_ids, start=start, end=end, handoff=False).created == []
        alert_keys = list(Alert.objects.values_list("dedupe_key", flat=True))
        assert len(alert_keys) == len(set(alert_keys)), "one alert per anomaly, however often the task ran"
        if task == "detect_pending":  # the claimed range and the set's marker are released: the next batch queues
            import redis

            assert not list(redis.Redis.from_url(str(settings.REDIS_URL)).scan_iter("wattwatch:detect:*"))


def test_worker_killed_mid_training_redelivers_and_leaves_one_current_version(tmp_path: Path) -> None:
    _flush_broker()
    models = tmp_path / "models"
    models.mkdir()
    with override_settings(ML_MODELS_DIR=models):
        habit_campus_build(
            days=21, rooms_per_hostel=8, hostels=1, end=timezone.now().replace(minute=0, second=0, microsecond=0)
        )

        def trained() -> bool:
            return JobRun.objects.filter(job="segmentation_daily", outcome=JobRun.Outcome.OK).exists()

        _kill_then_redeliver(
            tmp_path=tmp_path,
            stall="predictions.ml.artifacts:artifact_write",
            call=1,  # the model is trained and its version row written, the artifact not yet
            enqueue=segmentation_daily.delay,
            done=trained,
            what="segmentation training",
            models=models,
        )
        versions = list(ModelVersion.objects.filter(family="segmentation"))
        assert [v.status for v in versions] == [ModelVersion.Status.CURRENT], "the killed run left no version"
        model = CustomerSegmenter.load(versions[0].artifact)
        assert len(model.profiles) == versions[0].metrics["k"]
        assert not list(models.glob(".*.tmp")), "no half-written artifact is left where it could be loaded"
        runs = list(JobRun.objects.filter(job="segmentation_daily").order_by("started_at"))
        assert [r.outcome for r in runs] == [JobRun.Outcome.LOST, JobRun.Outcome.OK]
        assert runs[0].task_id == runs[1].task_id != ""
