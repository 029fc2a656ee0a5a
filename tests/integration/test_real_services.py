"""Against the real PostgreSQL and Redis (CI sets DATABASE_URL and REDIS_URL): no mocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_task_sent_through_the_real_broker_is_run_by_a_real_worker_process() -> None:
    from django.core.cache import cache

    from analytics.services import HEARTBEAT_KEY
    from analytics.tasks import system_heartbeat

    cache.delete(HEARTBEAT_KEY)
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    # The worker must use the test database pytest-django created, not the main one.
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    hostname = f"itest-{uuid.uuid4().hex[:8]}@%h"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--hostname",
            hostname,
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        result = system_heartbeat.delay()
        summary = result.get(timeout=90, disable_sync_subtasks=False)
        assert summary["worker"].startswith("itest-")
        assert cache.get(HEARTBEAT_KEY)["worker"] == summary["worker"]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


async def warden_socket(warden: Any) -> WebsocketCommunicator:
    """Warden A's alert socket through the real channel layer, past its hello."""
    from alerts.consumers import AlertStreamConsumer

    communicator = WebsocketCommunicator(AlertStreamConsumer.as_asgi(), "/ws/alerts/")
    communicator.scope["user"] = warden
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


async def push_and_receive(communicator: WebsocketCommunicator, hostel_id: int, event_id: int, title: str) -> None:
    """An alert of the warden's hostel, sent from sync code in another thread as a Celery task would, arrives."""
    from alerts.realtime import AlertEvent, send_now

    event: AlertEvent = {
        "type": "alert.raised",
        "id": event_id,
        "hostel_id": hostel_id,
        "title": title,
        "severity": "medium",
        "status": "open",
        "at": "2025-01-01T00:00:00+00:00",
    }
    await sync_to_async(send_now, thread_sensitive=False)(event)
    received = await communicator.receive_json_from(timeout=10)
    assert received["title"] == title


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_message_on_the_redis_channel_layer_reaches_a_websocket_consumer(campus: Any, warden_a: Any) -> None:
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    communicator = await warden_socket(warden_a)
    await push_and_receive(communicator, campus.hostel_a.id, 7, "Through Redis")
    await communicator.disconnect()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_a_socket_quiet_for_longer_than_the_layers_blocking_read_still_receives(
    campus: Any, warden_a: Any
) -> None:
    """A quiet campus sends nothing for minutes: the consumer's wait on Redis must not time out and kill it."""
    communicator = await warden_socket(warden_a)
    # Longer than redis-py 8's default socket timeout (5 s), which once killed every quiet socket.
    assert await communicator.receive_nothing(timeout=8)
    await push_and_receive(communicator, campus.hostel_a.id, 8, "After a quiet spell")
    await communicator.disconnect()


@pytest.mark.postgres
def test_migrations_apply_from_zero_on_a_fresh_postgres_database() -> None:
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"wattwatch_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        env = dict(os.environ, DATABASE_URL=f"{base}/{name}", DEBUG="1")
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrate.returncode == 0, migrate.stderr
        check = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
