"""Faults on purpose, against the real PostgreSQL and Redis: nothing lost, nothing doubled.

Every test starts and stops its own processes and finishes in well under a minute. Redis outages
use a private redis-server on another port; PostgreSQL drops are one terminated backend.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import override_settings

from alerts.models import Alert, AlertEvent, EmailDelivery
from alerts.services import alert_raise
from alerts.tasks import alerts_escalate_due_task
from meters.models import Meter, Reading
from meters.signals import stale_meters_found
from meters.tasks import meters_check_stale
from meters.tests.factories import MeterFactory
from tests.hardening.faults import ROOT, private_redis, start_worker, stop, subprocess_env, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _flush_broker() -> None:
    import redis

    assert settings.REDIS_URL is not None
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.mark.redis
def test_worker_killed_mid_email_redelivers_the_task_and_sends_the_email_once(
    campus: Any, warden_a: Any, tmp_path: Path
) -> None:
    _flush_broker()
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    warden_a.email = "warden.a@example.org"
    warden_a.save()
    env = subprocess_env(
        EMAIL_BACKEND="tests.hardening.slow_mail.EmailBackend", FAULT_OUTBOX=str(outbox), CELERY_VISIBILITY_TIMEOUT="2"
    )
    alert = alert_raise(kind="manual", title="Kettle left on", hostel=campus.hostel_a)  # queues one email
    delivery = EmailDelivery.objects.get(alert=alert)
    with (tmp_path / "worker.log").open("w") as log:
        first = start_worker(env, log)
        try:
            wait_for(lambda: (outbox / "started").exists(), timeout=40, what="the first worker to start sending")
            stop(first, signal.SIGKILL)  # no acknowledgement was sent: the message stays in Redis
        finally:
            stop(first, signal.SIGKILL)
        # Past the visibility timeout, the next worker's first scan of unacknowledged messages
        # (kombu scans when it starts, then every 100 s) puts the message back on the queue.
        time.sleep(3)
        second = start_worker(env, log)
        try:

            def sent() -> bool:
                delivery.refresh_from_db()
                return delivery.status == EmailDelivery.Status.SENT

            wait_for(sent, timeout=45, what="the redelivered email task", every=0.5)
        finally:
            stop(second)
    emails = list(outbox.glob("*.eml"))
    assert len(emails) == 1, (tmp_path / "worker.log").read_text()[-3000:]
    assert b"Kettle left on" in emails[0].read_bytes()
    assert EmailDelivery.objects.filter(alert=alert).count() == 1


WRITER = textwrap.dedent(
    """
    import os, sys, time, django
    django.setup()
    from predictions.ml.artifacts import artifact_write

    class Stall:
        def __reduce__(self):
            open(sys.argv[1], "w").close()
            time.sleep(120)  # killed here, half-way through the pickle
            return (int, (0,))

    artifact_write(name="fault.pkl", family="anomaly", format_version=1, payload=[os.urandom(4 << 20), Stall()])
    """
)


def test_a_writer_killed_mid_write_leaves_the_previous_artifact_readable(tmp_path: Path) -> None:
    from predictions.ml.artifacts import IncompatibleArtifact, artifact_read, artifact_write

    with override_settings(ML_MODELS_DIR=tmp_path):
        artifact_write(name="fault.pkl", family="anomaly", format_version=1, payload={"version": "previous"})
        marker = tmp_path / "writing"
        env = subprocess_env(ML_MODELS_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1")
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(marker)], cwd=ROOT, env=env, start_new_session=True
        )
        try:
            wait_for(marker.exists, timeout=30, what="the writer to be half-way")
            half = list(tmp_path.glob(".fault.pkl.*.tmp"))
            assert half, "the writer writes to a temporary name"
            assert half[0].stat().st_size > 1 << 20, "half of the artifact is on disk"
        finally:
            stop(writer, signal.SIGKILL)
        assert artifact_read(name="fault.pkl", family="anomaly", format_version=1) == {"version": "previous"}
        # A truncated file under the real name (a copy gone wrong) is refused, never loaded.
        (tmp_path / "broken.pkl").write_bytes(half[0].read_bytes()[:1000])
        with pytest.raises(IncompatibleArtifact):
            artifact_read(name="broken.pkl", family="anomaly", format_version=1)


INGEST_DURING_OUTAGE = textwrap.dedent(
    """
    import json, sys, datetime as dt, django
    django.setup()
    import redis
    from django.conf import settings
    from alerts.services import alert_raise
    from alerts.tasks import alert_email_send
    from meters.ingest import readings_ingest
    from meters.models import Hostel
    from meters.signals import readings_ingested

    # Stands in for detection: every committed batch enqueues work on the broker.
    def enqueue_detection(sender, meter_ids, start, end, **kwargs):
        alert_email_send.delay(0)
    readings_ingested.connect(enqueue_detection, weak=False)

    start = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    results = []
    for batch in range(6):
        if batch == 3:
            redis.Redis.from_url(settings.REDIS_URL).shutdown(nosave=True)  # Redis goes away mid-ingestion
        rows = [
            {"meter": serial, "timestamp": (start + dt.timedelta(minutes=15 * (batch * 8 + i))).isoformat(), "kwh": 0.1}
            for serial in sys.argv[1:] for i in range(8)
        ]
        results.append(readings_ingest(rows=rows, source=f"outage batch {batch}").summary())
    alert = alert_raise(kind="manual", title="Raised while Redis is down", hostel=Hostel.objects.get(code="A"))
    print(json.dumps({"results": results, "alert": alert.pk}))
    """
)


GATEWAY_DURING_OUTAGE = textwrap.dedent(
    """
    import json, sys, datetime as dt, django
    django.setup()
    import redis
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment
    from meters.models import Meter
    from meters.services import gateway_token_create

    setup_test_environment()  # the test client's host name
    ids = list(Meter.objects.filter(serial__in=sys.argv[1:]).values_list("id", flat=True))
    _, key = gateway_token_create(name="outage gateway", meter_ids=ids)
    client = Client()
    start = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    answers = []
    for batch in range(4):
        if batch == 2:
            redis.Redis.from_url(settings.REDIS_URL).shutdown(nosave=True)  # Redis goes away between batches
        rows = [
            {"meter": serial, "timestamp": (start + dt.timedelta(minutes=15 * (batch * 8 + i))).isoformat(), "kwh": 0.2}
            for serial in sys.argv[1:] for i in range(8)
        ]
        response = client.post(
            "/api/v1/readings/batch", json.dumps(rows), content_type="application/json",
            HTTP_AUTHORIZATION=f"Gateway {key}",
        )
        answers.append([response.status_code, response.json().get("accepted")])
    print(json.dumps(answers))
    """
)


@pytest.mark.redis
def test_gateways_batches_are_accepted_over_http_while_redis_is_down(campus: Any, tmp_path: Path) -> None:
    """The batch endpoint's throttle lives in Redis: with Redis gone it lets batches through, logged."""
    serials = [campus.meter_a.serial, campus.meter_b.serial]
    before = Reading.objects.count()
    with private_redis(tmp_path) as (port, _halt, _restart):
        run = subprocess.run(
            [sys.executable, "-c", GATEWAY_DURING_OUTAGE, *serials],
            cwd=ROOT,
            env=subprocess_env(REDIS_URL=f"redis://127.0.0.1:{port}/0", DJANGO_SETTINGS_MODULE="config.settings"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [[200, 16]] * 4
    assert "API throttle unavailable (Redis down" in run.stderr
    assert Reading.objects.count() - before == 64


SWEEP = (
    "import datetime as dt, django; django.setup(); from alerts.services import deliveries_requeue_pending; "
    "print(deliveries_requeue_pending(older_than=dt.timedelta(0)))"
)


@pytest.mark.redis
def test_ingestion_keeps_committing_while_redis_is_down_and_notifications_catch_up(
    campus: Any, warden_a: Any, tmp_path: Path
) -> None:
    import redis

    warden_a.email = "warden.a@example.org"
    warden_a.save()
    serials = [campus.meter_a.serial, campus.meter_b.serial]
    before = Reading.objects.count()
    with private_redis(tmp_path) as (port, _halt, restart):
        url = f"redis://127.0.0.1:{port}/0"
        run = subprocess.run(
            [sys.executable, "-c", INGEST_DURING_OUTAGE, *serials],
            cwd=ROOT,
            env=subprocess_env(REDIS_URL=url, DJANGO_SETTINGS_MODULE="config.settings", LOG_LEVEL="ERROR"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert "readings_ingested listener" in run.stderr, "the failed enqueue is logged"
        report = json.loads(run.stdout.strip().splitlines()[-1])
        assert [item["accepted"] for item in report["results"]] == [16] * 6
        assert Reading.objects.count() - before == 96
        delivery = EmailDelivery.objects.get(alert_id=report["alert"])
        assert delivery.status == EmailDelivery.Status.PENDING, "the email waits for the broker"
        # Redis returns: the sweep beat runs puts the pending email back on the queue, once.
        restart()
        sweep = subprocess.run(
            [sys.executable, "-c", SWEEP],
            cwd=ROOT,
            env=subprocess_env(REDIS_URL=url, DJANGO_SETTINGS_MODULE="config.settings"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sweep.stdout.strip() == "1", sweep.stderr[-2000:]
        queued = [json.loads(item) for item in redis.Redis(port=port).lrange("live", 0, -1)]
        assert [message["headers"]["task"] for message in queued] == ["alerts.tasks.alert_email_send"]
    # Posting the same readings again changes nothing: no doubles.
    from meters.ingest import readings_ingest

    start = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    rows = [
        {"meter": serial, "timestamp": (start + dt.timedelta(minutes=15 * i)).isoformat(), "kwh": 0.1}
        for serial in serials
        for i in range(48)
    ]
    again = readings_ingest(rows=rows, source="re-post")
    assert (again.accepted, again.unchanged) == (0, 96)


def _write_csv(path: Path, serials: list[str], per_meter: int) -> int:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["meter", "timestamp", "kwh"])
        for i in range(per_meter):
            stamp = (start + dt.timedelta(minutes=15 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            for serial in serials:
                writer.writerow([serial, stamp, "0.125"])
    return per_meter * len(serials)


def test_import_whose_database_connection_is_killed_reports_it_and_a_rerun_completes_once(
    db: None, tmp_path: Path
) -> None:
    meters = [MeterFactory.create(serial=f"PG-{n:03d}", rated_kw=10.0) for n in range(20)]
    path = tmp_path / "big.csv"
    rows = _write_csv(path, [meter.serial for meter in meters], per_meter=4000)
    command = [sys.executable, "manage.py", "import_readings", str(path), "--json"]
    env = subprocess_env()
    name = str(settings.DATABASES["default"]["NAME"])
    importer = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def writing_backend() -> int | None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                "AND backend_xid IS NOT NULL",
                [name],
            )
            found = cursor.fetchone()
        return int(found[0]) if found else None

    try:
        pid = wait_for(writing_backend, timeout=60, what="the importer to start writing", every=0.05)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        _out, err = importer.communicate(timeout=60)
    finally:
        stop(importer, signal.SIGKILL)
    assert importer.returncode != 0
    assert "Nothing from this file was committed" in err, err[-2000:]
    assert Reading.objects.filter(meter__in=meters).count() == 0
    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert json.loads(rerun.stdout)["accepted"] == rows
    third = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(third.stdout)["unchanged"] == rows
    assert Reading.objects.filter(meter__in=meters).count() == rows


def _twice_at_once(task: Any) -> list[Any]:
    barrier = threading.Barrier(2)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(task())
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_beat_running_twice_does_not_double_escalations_or_stale_meter_alerts(campus: Any, manager: Any) -> None:
    from config.celery import app

    app.conf.task_always_eager = True  # deliveries run in-process: no broker needed for this test
    try:
        manager.email = "manager@example.org"
        manager.save()
        past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        alerts = [
            alert_raise(kind="manual", title=f"Unacknowledged {n}", hostel=campus.hostel_a, dedupe_key=f"beat:{n}")
            for n in range(5)
        ]
        Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(escalation_due_at=past)
        results = _twice_at_once(alerts_escalate_due_task)
        assert sum(results) == 5
        for alert in alerts:
            assert AlertEvent.objects.filter(alert=alert, action=AlertEvent.Action.ESCALATED).count() == 1
            escalated = EmailDelivery.objects.filter(alert=alert, event__action=AlertEvent.Action.ESCALATED)
            assert escalated.count() == 1

        def raise_for_stale(sender: Any, meters: list[Any], **kwargs: Any) -> None:
            for item in meters:
                meter = Meter.objects.get(pk=item.meter_id)
                alert_raise(
                    kind="stale_meter", title=f"{item.serial} silent", meter=meter, dedupe_key=f"stale:{meter.pk}"
                )

        stale_meters_found.connect(raise_for_stale, weak=False)
        try:
            _twice_at_once(meters_check_stale)
        finally:
            stale_meters_found.disconnect(raise_for_stale)
        stale = Alert.objects.filter(kind="stale_meter")
        assert stale.count() == stale.values("dedupe_key").distinct().count() >= 2
    finally:
        app.conf.task_always_eager = False


def _raise_and_close(**fields: Any) -> Alert:
    """alert_raise from a worker thread, closing that thread's connection (the test DB is dropped later)."""
    try:
        return alert_raise(**fields)
    finally:
        connections.close_all()


SERVER_PROBE = "ws://127.0.0.1:{port}/ws/alerts/"


@pytest.mark.redis
def test_sockets_reconnect_after_a_web_restart_and_catch_up_on_missed_alerts(
    campus: Any, warden_a: Any, tmp_path: Path
) -> None:
    import asyncio

    import requests
    import websockets
    from django.test import Client

    from tests.hardening.faults import free_port

    client = Client()
    client.force_login(warden_a)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    port = free_port()
    env = subprocess_env(DEBUG="1")
    # The web process as production serves it (docker-compose.yml): gunicorn with a uvicorn worker.
    server = ("gunicorn", "config.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker")
    command = [sys.executable, "-m", *server, "--bind", f"127.0.0.1:{port}"]
    log = (tmp_path / "web.log").open("w")

    def start_web() -> subprocess.Popen[Any]:
        web = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def up() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code in (200, 503)
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting up
                return False

        wait_for(up, timeout=40, what="the web process", every=0.3)
        return web

    async def receive_until(socket: Any, kind: str) -> list[dict[str, Any]]:
        seen = []
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=15))
            seen.append(message)
            if message["type"] == kind:
                return seen

    async def scenario() -> None:
        headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}
        url = SERVER_PROBE.format(port=port)
        web = start_web()
        try:
            async with websockets.connect(url, additional_headers=headers) as socket:
                await receive_until(socket, "hello")
                await asyncio.to_thread(_raise_and_close, kind="manual", title="Before restart", hostel=campus.hostel_a)
                live = await receive_until(socket, "alert.raised")
                last_event_id = live[-1]["event_id"]
                stop(web)  # the web process goes away; the socket drops
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(socket.recv(), timeout=15)
            await asyncio.to_thread(_raise_and_close, kind="manual", title="Missed while down", hostel=campus.hostel_a)
            await asyncio.to_thread(
                _raise_and_close, kind="manual", title="Secret-B while down", hostel=campus.hostel_b
            )
            web = await asyncio.to_thread(start_web)
            async with websockets.connect(url, additional_headers=headers) as socket:
                await receive_until(socket, "hello")
                await socket.send(json.dumps({"type": "resume", "since": last_event_id}))
                replay = await receive_until(socket, "resumed")
        finally:
            stop(web)
        titles = [message.get("title") for message in replay]
        assert "Missed while down" in titles
        assert "Before restart" not in titles
        assert "Secret-B while down" not in titles

    try:
        asyncio.run(scenario())
    finally:
        log.close()
        connections.close_all()
