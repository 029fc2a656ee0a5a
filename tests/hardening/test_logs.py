"""Logs a person can read: a refused request is one line, nothing twice, JSON on request, and a request id
that follows a request into the tasks it queues."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from alerts import services
from alerts.models import NotificationRule, WebhookDelivery
from alerts.tests.test_notifications import Receiver
from conftest import client_for

ROOT = Path(__file__).resolve().parents[2]


class Console:
    """What the configured console handler writes (the one handler on the root logger)."""

    def __init__(self) -> None:
        handlers = [handler for handler in logging.getLogger().handlers if handler.get_name() == "console"]
        assert len(handlers) == 1, "one console handler on the root logger"
        handler = handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        self.handler: logging.StreamHandler[Any] = handler
        self.stream = io.StringIO()
        self.before = self.handler.setStream(self.stream)

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def close(self) -> None:
        self.handler.setStream(self.before)


@pytest.fixture
def console() -> Iterator[Console]:
    captured = Console()
    yield captured
    captured.close()


def test_django_prints_nothing_of_its_own_beside_the_root_handler() -> None:
    """Django's default set-up gives the "django" logger a console handler too (with DEBUG on): every
    warning came out twice."""
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django.request").handlers == []
    ours = [handler for handler in logging.getLogger().handlers if not type(handler).__module__.startswith("_pytest")]
    assert [handler.get_name() for handler in ours] == ["console"]


@pytest.mark.django_db
def test_a_missing_page_is_one_line_with_its_request_id_and_no_traceback(
    campus: Any, warden_a: Any, console: Console
) -> None:
    request_id = uuid.uuid4().hex
    response = client_for(warden_a).get("/alerts/999999/", HTTP_X_REQUEST_ID=request_id)
    assert response.status_code == 404
    assert response["X-Request-ID"] == request_id
    lines = console.lines()
    assert len(lines) == 1, lines
    assert re.fullmatch(rf".* WARNING django\.request \[{request_id}\] Not Found: /alerts/999999/", lines[0])


@pytest.mark.django_db
def test_a_forbidden_page_is_one_line_and_no_traceback(nobody: Any, console: Console) -> None:
    response = client_for(nobody).get("/alerts/")
    assert response.status_code == 403
    lines = console.lines()
    assert len(lines) == 1, lines
    assert lines[0].endswith("Forbidden (Permission denied): /alerts/")
    assert "Traceback" not in console.stream.getvalue()


@pytest.mark.django_db
def test_a_refused_api_call_is_one_line(campus: Any, warden_a: Any, warden_b: Any, console: Console) -> None:
    alert = services.alert_raise(kind="manual", title="Fuse tripped", meter=campus.meter_b)
    assert client_for(warden_a).get(f"/api/v1/alerts/{alert.pk}").status_code == 404
    assert Client().get("/api/v1/alerts").status_code == 401
    lines = [line for line in console.lines() if "django.request" in line]
    assert [line.split("] ", 1)[1] for line in lines] == [
        f"Not Found: /api/v1/alerts/{alert.pk}",
        "Unauthorized: /api/v1/alerts",
    ]


@pytest.mark.django_db
def test_a_request_without_a_usable_id_gets_a_new_one(client: Client) -> None:
    first = client.get("/health", HTTP_X_REQUEST_ID="not a uuid; <script>")["X-Request-ID"]
    second = client.get("/health")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


def test_json_logs_are_one_object_a_line_with_the_request_id(tmp_path: Path) -> None:
    """LOG_FORMAT=json, in a process of its own as production would run it."""
    request_id = str(uuid.uuid4())
    script = (
        "import django, sys; django.setup()\n"
        "from django.test import Client\n"
        f"response = Client(SERVER_NAME='localhost').get('/no-such-page/', HTTP_X_REQUEST_ID='{request_id}')\n"
        "print(response.status_code, response['X-Request-ID'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        LOG_FORMAT="json",
        WATTWATCH_DATA_DIR=str(tmp_path),
        SECRET_KEY="test-only-secret-key-that-is-long-enough-for-django-checks-1234567890",
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["404", request_id]
    records = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    (refused,) = [record for record in records if record["logger"] == "django.request"]
    assert refused["level"] == "WARNING"
    assert refused["message"] == "Not Found: /no-such-page/"
    assert refused["request_id"] == request_id
    assert refused["status_code"] == 404
    assert "exc_info" not in refused
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", refused["time"])


def test_a_bad_log_format_is_refused_with_its_name(tmp_path: Path) -> None:
    env = {**os.environ, "LOG_FORMAT": "xml", "DEBUG": "1", "WATTWATCH_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "LOG_FORMAT: is 'xml'; use plain or json" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_the_request_id_reaches_the_logs_of_a_task_the_request_queued(campus: Any, warden_a: Any) -> None:
    """A real worker (Celery's test worker on the in-memory broker) runs the webhook task a warden's
    acknowledgement queued: its log line carries the request's id."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    receiver = Receiver([])
    receiver.thread.start()
    NotificationRule.objects.create(webhook_url=receiver.url, webhook_secret="s3cret", hostel=campus.hostel_a)
    alert = services.alert_raise(kind="manual", title="Fuse tripped", meter=campus.meter_a)
    WebhookDelivery.objects.all().delete()  # the raise's own webhook: not this test's
    request_id = uuid.uuid4().hex
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            console = Console()  # after the worker's logging set-up, which configures the handlers again
            try:
                response = client_for(warden_a).post(
                    f"/alerts/{alert.pk}/acknowledge", {"next": "/alerts/"}, HTTP_X_REQUEST_ID=request_id
                )
                assert response.status_code == 302
                deadline = time.monotonic() + 30
                while not any("delivered" in line for line in console.lines()) and time.monotonic() < deadline:
                    time.sleep(0.1)
                lines = console.lines()
            finally:
                console.close()
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    delivered = [line for line in lines if "alerts.services.notifications" in line and "delivered" in line]
    assert len(delivered) == 1, lines
    assert f"[{request_id}]" in delivered[0]
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)  # real commits: the task is queued inside the request, as in production
def test_a_task_run_eagerly_keeps_the_request_id_and_the_request_keeps_it_after(
    campus: Any, warden_a: Any, console: Console
) -> None:
    """CELERY_TASK_ALWAYS_EAGER runs the task inside the request: it used to get an id of its own and
    leave the rest of the request (and the response header) without one."""
    from config.celery import app

    receiver = Receiver([])
    receiver.thread.start()
    NotificationRule.objects.create(webhook_url=receiver.url, webhook_secret="s3cret", hostel=campus.hostel_a)
    alert = services.alert_raise(kind="manual", title="Fuse tripped", meter=campus.meter_a)
    WebhookDelivery.objects.all().delete()
    request_id = uuid.uuid4().hex
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        response = client_for(warden_a).post(
            f"/alerts/{alert.pk}/acknowledge", {"next": "/alerts/"}, HTTP_X_REQUEST_ID=request_id
        )
    finally:
        app.conf.task_always_eager = before
        receiver.server.shutdown()
        receiver.server.server_close()
    assert response["X-Request-ID"] == request_id
    delivered = [line for line in console.lines() if "alerts.services.notifications" in line and "delivered" in line]
    assert len(delivered) == 1, console.lines()
    assert f"[{request_id}]" in delivered[0]


def test_the_embedded_servers_access_log_stays_off_after_django_configures_logging() -> None:
    """config/serve.py turns uvicorn's access log off (Django's line is the one for a refused request);
    settings.LOGGING naming a "uvicorn" logger made dictConfig reset "uvicorn.access" and turn it on again."""
    import logging.config

    import uvicorn
    from django.conf import settings

    access = logging.getLogger("uvicorn.access")
    before = (access.propagate, list(access.handlers))
    try:
        uvicorn.Config("config.asgi:application", log_config=None, access_log=False).configure_logging()
        logging.config.dictConfig(settings.LOGGING)  # what django.setup() and each Celery worker do
        assert access.propagate is False
        assert access.handlers == []
    finally:
        access.propagate, access.handlers = before
        logging.config.dictConfig(settings.LOGGING)
