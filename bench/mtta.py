"""Mean time to alert: from a triggering action accepted over HTTP to the alert on N WebSockets.

Starts web (gunicorn with a uvicorn worker on config.asgi, as docker-compose runs it, with
gunicorn.conf.py), worker (celery -A config worker) and beat as separate processes
against DATABASE_URL and REDIS_URL, signs in N sockets as a facility manager, fires alerts and
times each socket's receipt of each alert.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wattwatch_mtta REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/mtta.py --sockets 200 --alerts 20 --json

Triggers (--trigger):
  readings  (default) POST /api/v1/readings/batch as a gateway (`Authorization: Gateway <key>`):
            four 15-minute readings "now" for one room meter, the last one 1.8 kWh (7.2 kW on a
            meter rated 8 kW; ingestion refuses more) after three of 0.05 kWh. The web process
            stores them and, on commit, `readings_ingested` queues `predictions.tasks.detect_pending`;
            the worker stores the Anomaly and `alert_raise` pushes `alert.raised`. A socket counts
            the first `alert.raised` whose title ends with "on <serial>" of the trial's meter: mostly
            a spike, on a night-time or vacant room sometimes night or vacant usage instead.
            Set-up simulates (once) the tiny campus (meters/simulation, no incidents) whose history ends a day ago and
            trains the anomaly baseline when none is current. Each trial uses another room meter
            (and, past the number of meters, slots two hours earlier), so no anomaly merges with
            another trial's; readings and anomalies of earlier runs are cleared first.
  api       POST /api/v1/alerts (staff): the alert is raised by the worker after commit.

The clock starts when the request is sent (before the HTTP 200/202 comes back): the latency
includes ingestion (or the API call) as well as the worker and the push to the sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests
import websockets

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PASSWORD = "bench-password-123"

SETUP = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from core.roles import MANAGER_GROUP
from meters.models import Hostel, Room, Site
User = get_user_model()
admin, _ = User.objects.get_or_create(username="bench_admin", defaults={"is_staff": True, "is_superuser": True})
admin.set_password("%(password)s"); admin.save()
manager, _ = User.objects.get_or_create(username="bench_manager")
manager.set_password("%(password)s"); manager.save()
manager.groups.add(Group.objects.get_or_create(name=MANAGER_GROUP)[0])
site, _ = Site.objects.get_or_create(code="bench", defaults={"name": "Bench campus", "latitude": 0, "longitude": 0})
hostel, _ = Hostel.objects.get_or_create(site=site, code="BENCH", defaults={"name": "Bench hostel"})
room, _ = Room.objects.get_or_create(hostel=hostel, number="B-1", defaults={"bed_type": 2, "capacity": 2})
print("ROOM", room.pk)
"""


READINGS_SETUP = """
import datetime as dt, json
from django.utils import timezone
from meters.models import Meter, Reading
from meters.models import GatewayToken
from meters.services import gateway_token_create, gateway_token_rotate
from predictions.detection import baseline_current, baseline_train
from meters.simulation import campus_simulate
from predictions.models import Anomaly
now = timezone.now().replace(second=0, microsecond=0)
history_end = now.replace(minute=now.minute - now.minute % 15) - dt.timedelta(days=1)
built = False
simulated = Meter.objects.filter(kind=Meter.Kind.ROOM, room__hostel__site__code="sim")
if not simulated.exists():
    campus_simulate(scale="tiny", seed=7, days=10, now=history_end, incidents=False, progress=False)
    built = True
meters = list(simulated.order_by("serial"))
# Earlier runs' trial readings and anomalies: without this, the same readings would be "unchanged"
# (no readings_ingested, no detection) and anomalies would merge into the old ones.
Reading.objects.filter(meter__in=meters, timestamp__gte=history_end).delete()
Anomaly.objects.filter(meter__in=meters).delete()
if built or baseline_current() is None:
    version = baseline_train()
    print("BASELINE", version.pk, version.status)
gateway = GatewayToken.objects.filter(name="mtta-bench").first()
if gateway is None:
    _, key = gateway_token_create(name="mtta-bench", meter_ids=[m.pk for m in meters])
else:
    key = gateway_token_rotate(token=gateway)
    gateway.meters.set(meters)
print("READINGS " + json.dumps({"key": key, "meters": [m.serial for m in meters]}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def processes(env: dict[str, str], port: int, log_dir: Path, concurrency: int) -> Iterator[None]:
    """Web, worker and beat as three process groups; all stopped on exit."""
    commands = {
        "web": [PYTHON, "-m", "gunicorn", "config.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker",
                "--workers", "1", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        "worker": [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING",
                   "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "-n", "bench@%h"],
        "beat": [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING",
                 "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
                 "--schedule", str(log_dir / "beat-schedule")],
    }  # fmt: skip
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands.items():
            log = (log_dir / f"{name}.log").open("wb")
            started.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        yield
    finally:
        for process in started:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "login page has a CSRF token"
    response = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
    )
    assert response.ok, f"login as {username} failed"
    assert "sessionid" in session.cookies, f"login as {username} failed"
    return session


class Trigger(Protocol):
    """Something done over HTTP that ends in an alert; `fire` returns when the server accepted it."""

    def fire(self, token: str) -> None: ...

    def matches(self, event: dict[str, Any], token: str) -> bool: ...


@dataclass
class ApiTrigger:
    """POST /api/v1/alerts as staff: the web process enqueues alert_raise for the worker."""

    base: str
    session: requests.Session
    room_id: int

    def fire(self, token: str) -> None:
        response = self.session.post(
            f"{self.base}/api/v1/alerts",
            json={"kind": "manual", "title": f"bench {token}", "room": self.room_id, "dedupe_key": f"bench:{token}"},
            headers={"X-CSRFToken": self.session.cookies["csrftoken"]},
            timeout=10,
        )
        assert response.status_code == 202, response.text

    def matches(self, event: dict[str, Any], token: str) -> bool:
        return event.get("type") == "alert.raised" and event.get("title") == f"bench {token}"


@dataclass
class ReadingsTrigger:
    """POST /api/v1/readings/batch as a gateway with an obvious spike; detection raises the alert."""

    base: str
    key: str
    meters: list[str]
    fired: int = 0
    serial_of: dict[str, str] = field(default_factory=dict)

    def fire(self, token: str) -> None:
        # Another meter each trial; once every meter was used, two hours earlier per round.
        serial = self.meters[self.fired % len(self.meters)]
        rounds = self.fired // len(self.meters)
        self.fired += 1
        self.serial_of[token] = serial
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        last = now.replace(minute=now.minute - now.minute % 15) - dt.timedelta(hours=2 * rounds)
        stamps = [last - dt.timedelta(minutes=15 * (3 - i)) for i in range(4)]
        rows = [
            {"meter": serial, "timestamp": t.isoformat(), "kwh": 1.8 if i == 3 else 0.05, "voltage": 230.0}
            for i, t in enumerate(stamps)
        ]
        response = requests.post(
            f"{self.base}/api/v1/readings/batch",
            json=rows,
            headers={"Authorization": f"Gateway {self.key}"},
            timeout=10,
        )
        assert response.status_code in (200, 202), response.text
        body = response.json()
        assert body["accepted"] + body["updated"] == len(rows), body

    def matches(self, event: dict[str, Any], token: str) -> bool:
        serial = self.serial_of.get(token)
        return (
            serial is not None
            and event.get("type") == "alert.raised"
            and str(event.get("title", "")).endswith(f" on {serial}")
        )


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    missing: int = 0


async def run(args: argparse.Namespace, base: str, trigger: Trigger, cookie: str) -> Results:
    ws_url = base.replace("http://", "ws://") + "/ws/alerts/"
    headers = {"Cookie": f"sessionid={cookie}", "Origin": base}
    sockets = []
    for _ in range(args.sockets):
        ws = await websockets.connect(ws_url, additional_headers=headers, max_queue=None, open_timeout=30)
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        sockets.append(ws)
    print(f"{len(sockets)} sockets connected as bench_manager", file=sys.stderr)

    # token -> (start, done, latencies, sockets already counted): a trial may raise several alerts
    # (a spike and a sustained excess); each socket counts its first one.
    pending: dict[str, tuple[float, asyncio.Event, list[float], set[int]]] = {}

    async def listen(number: int, ws: Any) -> None:
        async for raw in ws:
            received = time.perf_counter()
            event = json.loads(raw)
            for token, (start, done, times, seen) in list(pending.items()):
                if number not in seen and trigger.matches(event, token):
                    seen.add(number)
                    times.append(received - start)
                    if len(times) == len(sockets):
                        done.set()

    listeners = [asyncio.create_task(listen(number, ws)) for number, ws in enumerate(sockets)]
    results = Results()

    async def one(token: str, *, timeout: float) -> list[float]:
        done = asyncio.Event()
        times: list[float] = []
        pending[token] = (time.perf_counter(), done, times, set())
        await asyncio.to_thread(trigger.fire, token)
        with suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=timeout)
        del pending[token]
        return times

    # Warm-up: the worker may still be starting; not measured.
    warm = await one(f"warmup-{uuid.uuid4().hex[:8]}", timeout=90)
    if not warm:
        raise SystemExit("no alert reached any socket within 90 s: is the worker running? see the logs")
    for index in range(args.alerts):
        times = await one(f"{index}-{uuid.uuid4().hex[:8]}", timeout=30)
        results.latencies.extend(times)
        results.missing += len(sockets) - len(times)
        print(f"alert {index + 1}/{args.alerts}: p95 {percentile(times, 0.95) if times else float('nan'):.3f} s "
              f"on {len(times)} sockets", file=sys.stderr)  # fmt: skip
        await asyncio.sleep(args.interval)
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=20, help="alerts to time (after one warm-up)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between alerts")
    parser.add_argument("--trigger", choices=["readings", "api"], default="readings")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()

    env = dict(os.environ)
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL: web, worker and beat must share them")
    env.setdefault("DEBUG", "1")
    env.setdefault("WATTWATCH_HEARTBEAT_SECONDS", "5")
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", SETUP % {"password": PASSWORD}],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    room_id = int(re.search(r"ROOM (\d+)", out).group(1))  # type: ignore[union-attr]
    readings: dict[str, Any] = {}
    if args.trigger == "readings":
        began = time.perf_counter()
        out = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", READINGS_SETUP],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        readings = json.loads(re.search(r"^READINGS (.+)$", out, re.M).group(1))  # type: ignore[union-attr]
        print(f"readings set-up: {len(readings['meters'])} room meters in {time.perf_counter() - began:.1f} s"
              f"{' (baseline trained)' if 'BASELINE' in out else ''}", file=sys.stderr)  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with processes(env, port, log_dir, args.concurrency):
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/health", timeout=5).status_code in (200, 503):
                    break
            except requests.RequestException:  # not listening yet, or slow on its first request
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"web did not start; see {log_dir / 'web.log'}")
            time.sleep(0.3)
        admin = login(base, "bench_admin")
        manager = login(base, "bench_manager")
        trigger: Trigger = (
            ApiTrigger(base, admin, room_id)
            if args.trigger == "api"
            else ReadingsTrigger(base, readings["key"], readings["meters"])
        )
        results = asyncio.run(run(args, base, trigger, manager.cookies["sessionid"]))

    latencies = results.latencies
    summary = {
        "trigger": args.trigger,
        "sockets": args.sockets,
        "alerts": args.alerts,
        "samples": len(latencies),
        "missing": results.missing,
        "p50_seconds": round(statistics.median(latencies), 4) if latencies else None,
        "p95_seconds": round(percentile(latencies, 0.95), 4) if latencies else None,
        "max_seconds": round(max(latencies), 4) if latencies else None,
    }
    print(
        f"MTTA over {summary['samples']} deliveries ({args.alerts} alerts x {args.sockets} sockets, "
        f"trigger {args.trigger}): p50 {summary['p50_seconds']} s, p95 {summary['p95_seconds']} s, "
        f"max {summary['max_seconds']} s, missing {results.missing}"
    )
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
