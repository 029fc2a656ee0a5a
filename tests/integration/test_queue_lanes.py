"""Issue 29: a live alert is delivered while the training queue is busy, with real workers on a real Redis
broker and PostgreSQL, one worker per queue as docker-compose runs them (config/queues.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from alerts.models import NotificationRule, WebhookDelivery
from alerts.tests.test_notifications import Receiver
from conftest import client_for
from predictions.models import JobRun
from predictions.tasks import forecasts_hourly, segmentation_daily
from tests.hardening.faults import start_worker, stop, subprocess_env, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _redis() -> Any:
    import redis

    assert settings.REDIS_URL is not None
    return redis.Redis.from_url(settings.REDIS_URL)


def _queue_lengths() -> dict[str, float]:
    """wattwatch_celery_queue_length per queue, as Prometheus scrapes it from /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    response = Client().get("/metrics")
    assert response.status_code == 200
    return {
        sample.labels["queue"]: sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name == "wattwatch_celery_queue_length"
    }


def test_a_live_alert_is_delivered_while_training_is_busy(tmp_path: Path, campus: Any, admin: Any) -> None:
    _redis().flushdb()
    receiver = Receiver([])
    receiver.thread.start()
    NotificationRule.objects.create(webhook_url=receiver.url, webhook_secret="s3cret", hostel=campus.hostel_a)
    marker = tmp_path / "training-stalled"
    env = subprocess_env(
        FAULT_STALL_MARKER=str(marker),
        FAULT_STALL_CALL="1",
        ML_MODELS_DIR=str(tmp_path / "models"),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    training_log, live_log = (tmp_path / "training.log").open("w"), (tmp_path / "live.log").open("w")
    # The training worker's first model run hangs (predictions.tasks.job_run) until the test kills it.
    training = start_worker(env, training_log, stall="predictions.tasks:job_run", queues="training")
    live = start_worker(env, live_log, queues="live")
    try:
        segmentation_daily.delay()
        forecasts_hourly.delay()  # and more training waits behind it
        forecasts_hourly.delay()
        wait_for(marker.exists, timeout=90, what="the training worker to be busy with a model run")
        wait_for(lambda: _queue_lengths().get("training") == 2, timeout=10, what="two training runs waiting")

        sent = time.monotonic()
        response = client_for(admin).post(
            "/api/v1/alerts",
            {"kind": "manual", "title": "Fuse tripped in A-101", "meter": campus.meter_a.pk},
            content_type="application/json",
        )
        assert response.status_code == 202, response.content
        # Raised by the live worker (alerts.tasks.alert_raise), then its webhook sent by the live worker too.
        wait_for(lambda: receiver.requests, timeout=60, what="the alert's webhook", every=0.05)
        delivered_after = time.monotonic() - sent

        body = json.loads(receiver.requests[0][1])
        assert "Fuse tripped in A-101" in json.dumps(body)
        # The worker records the delivery as sent once the receiver has answered: a moment after it arrived.
        sent_rows = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENT)
        wait_for(lambda: sent_rows.count() >= 1, timeout=30, what="the delivery recorded as sent", every=0.05)
        assert sent_rows.count() == 1
        # ... while training was still busy: the first run hung, the other two still queued.
        assert (
            not JobRun.objects.filter(job__in=["segmentation_daily", "forecasts_hourly"])
            .exclude(outcome=JobRun.Outcome.RUNNING)
            .exists()
        )
        lengths = _queue_lengths()
        assert lengths["training"] == 2
        assert set(lengths) == {"live", "detection", "training", "imports"}
        assert delivered_after < 30, delivered_after
        print(f"alert delivered {delivered_after:.2f} s after the request, training busy")
    finally:
        stop(live)
        stop(training, 9)  # hung on purpose
        training_log.close()
        live_log.close()
        receiver.server.shutdown()
        receiver.server.server_close()
        _redis().flushdb()
