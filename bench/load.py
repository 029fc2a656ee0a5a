"""Sustained load on the production processes: gateway batches at a target rate, sockets, API clients, alerts.

    # The issue's run: the large campus (simulate it first, see bench/simulate_large.py), 10 minutes
    .venv/bin/python bench/load.py --template wattwatch_sim_large --seconds 600 --rate 20000 --json
    # A quick look on an empty database
    .venv/bin/python bench/load.py --seconds 60 --rate 5000 --json

Loopback only, bounded in time. Creates (and drops) the database wattwatch_ingest_load on the
PostgreSQL server `--server` (a copy of `--template` when given: the campus's 35 million readings and
their indexes, which the original never sees), uses Redis `--redis` (default db 6), starts the
production processes (uvicorn with `--web-workers` workers and a Celery worker, production settings),
then for `--seconds`:
- `--senders` gateway processes post batches of their own meters' readings, paced to `--rate`
  readings/s in total (each batch is new data);
- `--sockets` WebSockets of a facility manager stay connected to ws/alerts/;
- `--api-clients` threads each GET one of the alert list, hostels, meters, analytics overview and
  /health in turn, one request per `--think` seconds;
- every 2 s an alert is raised (as detection would) and the time until every socket has it is
  measured (alert time).
Reports errors, readings/s achieved, API and alert-time percentiles, and each process's peak and
first/last resident memory (Linux /proc), so a leak shows as last >> first. Detection runs on every
committed batch in the worker, as in production; its queue depth at the end is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import json
import math
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, create_meters, drop_database, recreate_database

DB = "wattwatch_ingest_load"
UVICORN = (
    sys.executable,
    "-m",
    "uvicorn",
    "config.asgi:application",
    "--host",
    "127.0.0.1",
    "--lifespan",
    "off",
    "--no-access-log",
)
WORKER_OPTIONS = ("--concurrency", "1", "--loglevel", "WARNING")
API_PATHS = [
    "/api/v1/alerts?page=1",
    "/api/v1/health",
    "/api/v1/hostels",
    "/api/v1/meters?page=1",
    "/api/v1/analytics/overview?days=7",
]
START = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)


def rss_kb(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process in kB, from /proc."""
    values = {"VmRSS": 0, "VmHWM": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":")[0]
            if key in values:
                values[key] = int(line.split()[1])
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and every process under it (uvicorn's workers, Celery's pool), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += children.get(current, [])
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _kwh(meter: int, at: dt.datetime) -> float:
    """A room's plausible quarter hour: a daily shape, a room's own level, some noise.

    A constant value is a stuck meter, and detection rightly raises an alert for each one: that
    would measure a storm of flat-line alerts, not ingestion.
    """
    hour = at.hour + at.minute / 60
    shape = 0.6 + 0.4 * math.sin(math.pi * (hour - 8) / 12) if 8 <= hour <= 23 else 0.35
    level = 0.08 + 0.04 * ((meter * 7919) % 13) / 13
    noise = 0.85 + 0.3 * (((meter * 104729 + int(at.timestamp()) // 900) * 2654435761) % 1000) / 1000
    return round(level * shape * noise, 4)


def sender(port: int, key: str, serials: list[str], rate: float, seconds: float, out: Any) -> None:
    """Post batches of new readings for `serials` at `rate` readings/s for `seconds`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    per_batch = max(len(serials), min(10_000, int(rate)))  # about one batch a second
    steps = max(1, per_batch // len(serials))
    sent = errors = 0
    latencies: list[float] = []
    batch = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        base = START + dt.timedelta(minutes=15 * steps * batch)
        stamps = [(base + dt.timedelta(minutes=15 * k)).strftime("%Y-%m-%dT%H:%M:%SZ") for k in range(steps)]
        body = json.dumps(
            [
                {"meter": s, "timestamp": t, "kwh": _kwh(m, base + dt.timedelta(minutes=15 * k))}
                for m, s in enumerate(serials)
                for k, t in enumerate(stamps)
            ]
        ).encode()
        started = time.perf_counter()
        try:
            conn.request(
                "POST",
                "/api/v1/readings/batch",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Gateway {key}"},
            )
            response = conn.getresponse()
            answer = json.loads(response.read())
            if response.status != 200 or answer.get("rejected"):
                errors += 1
            else:
                sent += answer["accepted"] + answer["updated"] + answer["unchanged"]
        except (OSError, http.client.HTTPException, ValueError):
            errors += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies.append(time.perf_counter() - started)
        batch += 1
        # Pace: the next batch is due when this one's readings would have been spent at `rate`.
        due = began + batch * (len(serials) * steps) / rate
        time.sleep(max(0.0, due - time.perf_counter()))
    out.put({"readings": sent, "errors": errors, "latencies": latencies, "pid": os.getpid(), **_peak()})


def _peak() -> dict[str, int]:
    current, peak = rss_kb(os.getpid())
    return {"rss_kb": current, "peak_kb": peak}


def api_clients(ports: list[int], cookie: str, clients: int, think: float, seconds: float, out: Any) -> None:
    """`clients` threads, each GETs API_PATHS in turn, one request per `think` seconds.

    Client k talks to web process k mod N on its own port, as a load balancer spreads connections:
    processes sharing one listening socket leave kept-alive connections wherever they were accepted,
    mostly on one (measured: 23 s of CPU on one, 3 s on the other), and opening a connection per
    request measures loopback SYN retries of a second, not the server.
    """
    latencies: list[float] = []
    by_path: dict[str, list[float]] = {}
    server: dict[str, list[float]] = {}  # Server-Timing app: time inside Django
    errors: list[str] = []
    lock = threading.Lock()

    def one(port: int, first: int) -> None:
        began = time.perf_counter()
        n = first  # clients start at different paths: at every moment the mix is the whole list
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # Not timed: the connection's first request (a web process's first ones also warm its caches).
        conn.request("GET", "/api/v1/health", headers={"Cookie": cookie})
        conn.getresponse().read()
        while time.perf_counter() - began < seconds:
            path = API_PATHS[n % len(API_PATHS)]
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200 or (path.endswith("health") and response.status == 503)
                timing = response.getheader("Server-Timing") or ""
                app = next((float(p.split("=")[1]) for p in timing.split(",") if p.strip().startswith("app")), None)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    by_path.setdefault(path, []).append(time.perf_counter() - started)
                    if app is not None:
                        server.setdefault(path, []).append(app / 1000)
                    if not ok:
                        errors.append(f"{path} {response.status}")
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    errors.append(f"{path} {type(error).__name__}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            n += 1
            time.sleep(think)
        conn.close()

    threads = [threading.Thread(target=one, args=(ports[k % len(ports)], k), daemon=True) for k in range(clients)]
    for thread in threads:
        thread.start()
        time.sleep(think / clients)  # spread the clients over the think time
    for thread in threads:
        thread.join()
    p95 = {path: round(1000 * pct(values, 0.95), 1) for path, values in by_path.items()}
    server_p95 = {path: round(1000 * pct(values, 0.95), 1) for path, values in server.items()}
    all_server = [value for values in server.values() for value in values]
    out.put(
        {
            "latencies": latencies,
            "server": all_server,
            "errors": errors,
            "p95_ms_by_path": p95,
            "server_p95_ms_by_path": server_p95,
            "pid": os.getpid(),
            **_peak(),
        }
    )


async def sockets_and_alerts(
    ports: list[int], cookie: str, count: int, seconds: float, hostel_id: int
) -> dict[str, Any]:
    """Hold `count` sockets open; raise an alert every 2 s and time its arrival on every socket."""
    import websockets

    from alerts.services import alert_raise
    from meters.models import Hostel

    raised_at: dict[str, float] = {}
    arrivals: dict[str, list[float]] = {}
    errors: list[str] = []

    def target(k: int) -> tuple[str, dict[str, str]]:
        port = ports[k % len(ports)]
        return f"ws://127.0.0.1:{port}/ws/alerts/", {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}

    stop = asyncio.Event()
    connected: list[int] = []

    async def listen(k: int) -> None:
        url, headers = target(k)
        try:
            async with websockets.connect(url, additional_headers=headers, open_timeout=30) as socket:
                json.loads(await asyncio.wait_for(socket.recv(), timeout=30))  # hello
                connected.append(1)
                while not stop.is_set():
                    try:
                        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=1))
                    except TimeoutError:
                        continue
                    title = message.get("title")
                    if message.get("type") == "alert.raised" and title in raised_at:
                        arrivals.setdefault(title, []).append(time.perf_counter() - raised_at[title])
        except Exception as error:  # counted, the run goes on
            errors.append(f"socket {type(error).__name__}: {error}")

    listeners = []
    for k in range(count):
        listeners.append(asyncio.create_task(listen(k)))
        await asyncio.sleep(0.01)
    deadline = time.perf_counter() + 60
    while len(connected) + len(errors) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
    hostel = await asyncio.to_thread(Hostel.objects.get, pk=hostel_id)
    began = time.perf_counter()
    n = 0
    while time.perf_counter() - began < seconds:
        title = f"load alert {n}"
        raised_at[title] = time.perf_counter()
        await asyncio.to_thread(
            alert_raise, kind="manual", title=title, hostel=hostel, dedupe_key=f"load:{n}", explanation="bench"
        )
        n += 1
        await asyncio.sleep(2)
    await asyncio.sleep(3)  # let the last alert arrive
    stop.set()
    await asyncio.gather(*listeners)
    times = [value for values in arrivals.values() for value in values]
    missing = sum(max(0, count - len(arrivals.get(title, []))) for title in raised_at) if count else 0
    return {"alerts": len(raised_at), "deliveries": len(times), "missing": missing, "times": times, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--rate", type=float, default=20_000, help="Readings per second, all senders together.")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--api-clients", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0, help="Seconds between one API client's requests.")
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_SERVER", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"))
    parser.add_argument("--template", help="Copy this database (a simulated campus) instead of starting empty.")
    parser.add_argument("--web-workers", type=int, default=2, help="Web processes (uvicorn): one per core.")
    parser.add_argument("--no-worker", action="store_true", help="Leave detection tasks queued (no Celery worker).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import redis

    redis.Redis.from_url(args.redis).flushdb()  # the bench's own Redis database: no stale tasks
    started_setup = time.perf_counter()
    database = recreate_database(args.server, DB, template=args.template)
    if args.template:  # the copy is at the template's migration; bring it to this checkout's
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database, "DEBUG": "1"},
            check=True,
        )
    # One secret for this process and the server: the session made here must be valid there.
    secret = secrets.token_urlsafe(48)
    os.environ.update(DATABASE_URL=database, REDIS_URL=args.redis, DEBUG="1", LOG_LEVEL="WARNING", SECRET_KEY=secret)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from customers.roles import MANAGER_GROUP
    from meters.models import Hostel
    from meters.services import gateway_token_create

    meters = create_meters(args.meters)
    manager = User.objects.create_user("load-manager", password=secrets.token_urlsafe(16))
    manager.groups.add(Group.objects.get_or_create(name=MANAGER_GROUP)[0])
    login = Client()
    login.force_login(manager)
    cookie = f"sessionid={login.cookies['sessionid'].value}"
    share = len(meters) // args.senders
    keys = [
        gateway_token_create(name=f"load-{i}", meter_ids=[m for m, _ in meters[i * share : (i + 1) * share]])[1]
        for i in range(args.senders)
    ]
    ports = [_free_port() for _ in range(args.web_workers)]
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
    }
    # One uvicorn process per port, clients spread over them as a load balancer would (see api_clients).
    servers = [
        subprocess.Popen(
            [*UVICORN, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen(
            # Background work yields the CPU to web traffic, as docker-compose runs it (nice 10).
            ["nice", "-n", "10", *(sys.executable, "-m", "celery", "-A", "config", "worker"), *WORKER_OPTIONS],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    samples: dict[str, list[int]] = {}
    peaks: dict[str, int] = {}
    cpu: dict[str, float] = {}
    setup_seconds = time.perf_counter() - started_setup
    try:
        for port in ports:
            _wait_for_port(port)
        results: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(
                target=sender,
                args=(
                    ports[i % len(ports)],
                    keys[i],
                    [s for _, s in meters[i * share : (i + 1) * share]],
                    args.rate / args.senders,
                    args.seconds,
                    results,
                ),
            )
            for i in range(args.senders)
        ]
        procs.append(
            multiprocessing.Process(
                target=api_clients, args=(ports, cookie, args.api_clients, args.think, args.seconds, results)
            )
        )
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                watched = {f"web-{i}": server.pid for i, server in enumerate(servers)}
                if worker is not None:
                    watched |= {f"worker-{i}": p for i, p in enumerate(process_tree(worker.pid))}
                watched["bench"] = os.getpid()
                for name, pid in watched.items():
                    current, peak = rss_kb(pid)
                    if current:
                        samples.setdefault(name, []).append(current)
                        peaks[name] = max(peaks.get(name, 0), peak)
                        cpu[name] = cpu_seconds(pid)
                done.wait(1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        began = time.perf_counter()
        for proc in procs:
            proc.start()
        hostel_id = Hostel.objects.get(code="BENCH").pk
        live = asyncio.run(sockets_and_alerts(ports, cookie, args.sockets, args.seconds, hostel_id))
        collected = [results.get(timeout=args.seconds + 120) for _ in procs]
        elapsed = time.perf_counter() - began
        for proc in procs:
            proc.join(timeout=30)
        done.set()
        backlog = _queue_depth(args.redis)
    finally:
        for process in (*servers, worker):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
        drop_database(args.server, DB)
    sent = [item for item in collected if "readings" in item]
    api = next(item for item in collected if "readings" not in item)
    batch_latencies = [value for item in sent for value in item["latencies"]]
    report = {
        "seconds": round(elapsed, 1),
        "target_readings_per_s": args.rate,
        "readings": sum(item["readings"] for item in sent),
        "readings_per_s": round(sum(item["readings"] for item in sent) / elapsed),
        "batch_errors": sum(item["errors"] for item in sent),
        "batch_latency_p50_s": round(statistics.median(batch_latencies), 3) if batch_latencies else None,
        "batch_latency_p95_s": round(pct(batch_latencies, 0.95), 3),
        "api_clients": args.api_clients,
        "api_requests": len(api["latencies"]),
        "api_errors": len(api["errors"]),
        "api_p50_ms": round(1000 * pct(api["latencies"], 0.5), 1),
        "api_p95_ms": round(1000 * pct(api["latencies"], 0.95), 1),
        "api_p95_ms_by_path": api.get("p95_ms_by_path", {}),
        "api_server_p95_ms": round(1000 * pct(api.get("server", []), 0.95), 1),
        "api_server_p95_ms_by_path": api.get("server_p95_ms_by_path", {}),
        "sockets": args.sockets,
        "socket_errors": len(live["errors"]),
        "alerts_raised": live["alerts"],
        "alert_deliveries": live["deliveries"],
        "alert_deliveries_missing": live["missing"],
        "alert_time_p50_s": round(pct(live["times"], 0.5), 3),
        "alert_time_p95_s": round(pct(live["times"], 0.95), 3),
        "detection_queue_left": backlog,
        # CPU seconds each process used (setup included for the servers), to see where the cores went.
        "cpu_seconds": {name: round(value, 1) for name, value in sorted(cpu.items())},
        "setup_seconds": round(setup_seconds, 1),
        # Per process: peak, and the mean of the first and of the last minute (flat when they agree).
        "memory_mb": {
            name: {
                "peak": round(peaks[name] / 1024, 1),
                "first_minute": round(statistics.mean(values[:60]) / 1024, 1),
                "last_minute": round(statistics.mean(values[-60:]) / 1024, 1),
            }
            for name, values in sorted(samples.items())
        }
        | {
            "senders_peak": [round(item["peak_kb"] / 1024, 1) for item in sent],
            "api_clients_peak": round(api["peak_kb"] / 1024, 1),
        },
        "first_errors": (api["errors"] + live["errors"])[:5],
    }
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:26} {value}")


def _queue_depth(url: str) -> int | None:
    """Tasks still waiting on the default Celery queue (detection that has not caught up)."""
    import redis

    try:
        return int(redis.Redis.from_url(url).llen("celery"))
    except redis.RedisError:
        return None


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int) -> None:
    import socket

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not start")


if __name__ == "__main__":
    main()
