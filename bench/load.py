"""Sustained load on the production processes: gateway batches at a target rate, sockets, API clients, alerts.

    # The issue's run: the large campus (simulate it first, see bench/simulate_large.py), 10 minutes,
    # gateways on web processes of their own as docker-compose runs them
    .venv/bin/python bench/load.py --template wattwatch_sim_large --seconds 600 --rate 20000 --ingest-workers 2 --json
    # A quick look on an empty database
    .venv/bin/python bench/load.py --seconds 60 --rate 5000 --json

Loopback only, bounded in time. Creates (and drops) the database wattwatch_ingest_load on the
PostgreSQL server `--server` (a copy of `--template` when given: the campus's 35 million readings and
their indexes, which the original never sees), uses Redis `--redis` (default db 6), starts the
production processes with production settings and a connection pool each, served as docker-compose
serves them: `--web-workers` gunicorn processes with a uvicorn worker (ASGI) for people,
`--ingest-workers` (niced) gunicorn processes with a gthread worker (WSGI, `--ingest-concurrency`
threads) for gateways (0: gateways share the web ones), and with `--http-workers` gthread processes
(one thread) for pages and API, the uvicorn ones then keeping only sockets; each on its own port with
clients spread over them as a balancer would, and a niced Celery worker; then for
`--seconds`:
- `--senders` gateway processes post batches of their own meters' readings, paced to `--rate`
  readings/s in total (each batch is new data);
- `--sockets` WebSockets of a facility manager stay connected to ws/alerts/;
- `--api-clients` threads each GET one of the alert list, hostels, meters, analytics overview and
  /health in turn, one request per `--think` seconds;
- every 2 s an alert is raised (as detection would) and the time until every socket has it is
  measured (alert time).
Reports errors, readings/s achieved (over the senders' own window) and how many the pace called for
were not accepted, API and alert-time percentiles (an API request's time inside Django and its own
CPU, from its Server-Timing, which the servers here send: SERVER_TIMING=1), and
each process's peak, first/last-minute and per-minute resident memory (Linux /proc), so a leak
shows as a climb to the end. Detection runs on every
committed batch in the worker, as in production; its queue depth at the end is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from load_clients import (
    api_clients,
    cpu_seconds,
    cpu_seconds_with_reaped,
    pct,
    process_tree,
    rss_kb,
    sender,
    sockets_and_alerts,
)

# BENCH_DATABASE: another name, so two checkouts can be measured on one server without meeting.
DB = os.environ.get("BENCH_DATABASE", "wattwatch_ingest_load")
# The servers docker-compose runs, one gunicorn (one worker) per port: web processes are uvicorn
# workers on config.asgi (pages, API, sockets); ingest processes are gthread workers on config.wsgi.
GUNICORN = (sys.executable, "-m", "gunicorn", "--workers", "1", "--log-level", "warning")
WEB_SERVER = (*GUNICORN, "config.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker")
INGEST_SERVER = (*GUNICORN, "config.wsgi:application", "--worker-class", "gthread")
# With --http-workers: pages and API on sync processes (gthread, one thread: one request at a time per
# process), the ASGI web processes keeping only ws/ (docker-compose's web-http and web services).
HTTP_SERVER = (*GUNICORN, "config.wsgi:application", "--worker-class", "gthread", "--threads", "1")
WORKER_OPTIONS = ("--concurrency", "1", "--loglevel", "INFO")


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
    parser.add_argument("--web-workers", type=int, default=2, help="Web processes (uvicorn workers): one per core.")
    parser.add_argument(
        "--http-workers",
        type=int,
        default=0,
        help="Processes for pages and API only (gthread, one request at a time each); 0: the web ones serve them.",
    )
    parser.add_argument(
        "--ingest-workers", type=int, default=0, help="Web processes for gateways only (nice 5); 0: gateways share."
    )
    parser.add_argument(
        "--ingest-concurrency", type=int, default=1, help="Batches at once per ingest process (gthread threads)."
    )
    parser.add_argument("--no-worker", action="store_true", help="Leave detection tasks queued (no Celery worker).")
    parser.add_argument("--worker-log", help="Write the worker's log (each task and its result) to this file.")
    parser.add_argument("--server-log", help="Write each web process's log to <this>-<port>.log (why a socket closed).")
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

    from core.roles import MANAGER_GROUP
    from meters.models import Hostel
    from meters.services import gateway_token_create
    from predictions.detection.baselines import baseline_current
    from predictions.detection.streaming import detection_backlog

    if args.template and baseline_current(retrain=False) is None:
        # Else the worker's first detection trains one during the measurement (minutes of CPU).
        raise SystemExit(
            f"{args.template} has no current anomaly baseline whose artifact is in ML_MODELS_DIR; train one first:\n"
            f"  DEBUG=1 DATABASE_URL=<{args.template}> .venv/bin/python -c "
            "'import django; django.setup(); from predictions.detection import baseline_train; baseline_train()'"
        )
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
    # Gateways on web processes of their own (niced: people first), when asked; else on the same ones.
    ingest_ports = [_free_port() for _ in range(args.ingest_workers)]
    http_ports = [_free_port() for _ in range(args.http_workers)]
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        # A pool per process, as in production: without one each request's thread keeps a connection,
        # and three web processes under load ran PostgreSQL out of its 100 (HTTP 500s, measured).
        "DB_POOL_MAX_SIZE": os.environ.get("DB_POOL_MAX_SIZE", "10"),
        # The API's time inside Django, read by api_clients (off in production).
        "SERVER_TIMING": "1",
    }
    # One server per port, clients spread over them as a load balancer would (see api_clients). More
    # than one batch at once per ingest process: more readings, slower pages (measured before).
    servers = [
        subprocess.Popen(
            [
                *(
                    _ingest_command(args.ingest_concurrency)
                    if port in ingest_ports
                    else HTTP_SERVER
                    if port in http_ports
                    else WEB_SERVER
                ),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(f"{args.server_log}-{port}.log", "w") if args.server_log else subprocess.DEVNULL,  # noqa: SIM115
        )
        for port in ports + ingest_ports + http_ports
    ]
    gateway_ports = ingest_ports or ports
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen(
            # Background work yields the CPU to web traffic, as docker-compose runs it (nice 10).
            ["nice", "-n", "10", *(sys.executable, "-m", "celery", "-A", "config", "worker"), *WORKER_OPTIONS],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(args.worker_log, "w") if args.worker_log else subprocess.DEVNULL,  # noqa: SIM115
        )
    samples: dict[str, list[int]] = {}
    peaks: dict[str, int] = {}
    cpu: dict[str, float] = {}
    setup_seconds = time.perf_counter() - started_setup
    try:
        for port in ports + ingest_ports + http_ports:
            _wait_for_port(port)
        results: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(
                target=sender,
                args=(
                    gateway_ports[i % len(gateway_ports)],
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
                target=api_clients,
                args=(http_ports or ports, cookie, args.api_clients, args.think, args.seconds, results),
            )
        )
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                names = [f"web-{i}" for i in range(len(ports))] + [f"ingest-{i}" for i in range(len(ingest_ports))]
                names += [f"http-{i}" for i in range(len(http_ports))]
                watched = {name: _gunicorn_worker(server.pid) for name, server in zip(names, servers, strict=True)}
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
        postmaster = _postmaster_pid(database)
        postgres_before = cpu_seconds_with_reaped(postmaster) if postmaster else 0.0
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
        if postmaster:
            cpu["postgres (all databases, during the run)"] = cpu_seconds_with_reaped(postmaster) - postgres_before
        detection_lag = detection_backlog() or (None, None)
    finally:
        for process in (*servers, worker):
            if process is not None:
                process.terminate()
                try:  # a worker finishes its task first (warm shutdown); do not wait for a long one
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=30)
        drop_database(args.server, DB)
    sent = [item for item in collected if "readings" in item]
    api = next(item for item in collected if "readings" not in item)
    batch_latencies = [value for item in sent for value in item["latencies"]]
    window = max(item["last_at"] for item in sent) - min(item["first_at"] for item in sent) if sent else 0.0
    total = sum(item["readings"] for item in sent)
    report = {
        "seconds": round(elapsed, 1),
        "target_readings_per_s": args.rate,
        "readings": total,
        # Over the senders' own window, from the first batch sent to the last one answered: `seconds`
        # also holds the processes' start-up and the sockets' and API clients' wind-down.
        "send_window_s": round(window, 1),
        # At most the pace: the window ends at the last answer, a pacing interval short of `seconds`.
        "readings_per_s": round(total / max(window, args.seconds)),
        # Readings the pace called for (`rate` x `seconds`) that were not accepted: behind, or failed.
        "readings_short_of_pace": max(0, round(args.rate * args.seconds) - total),
        "batch_errors": sum(item["errors"] for item in sent),
        "batch_latency_p50_s": round(statistics.median(batch_latencies), 3) if batch_latencies else None,
        "batch_latency_p95_s": round(pct(batch_latencies, 0.95), 3),
        "http_workers": args.http_workers,
        "api_clients": args.api_clients,
        "api_requests": len(api["latencies"]),
        "api_errors": len(api["errors"]),
        "api_p50_ms": round(1000 * pct(api["latencies"], 0.5), 1),
        "api_p95_ms": round(1000 * pct(api["latencies"], 0.95), 1),
        "api_p95_ms_by_path": api.get("p95_ms_by_path", {}),
        "api_server_p50_ms": round(1000 * pct(api.get("server", []), 0.5), 1),
        "api_server_p95_ms": round(1000 * pct(api.get("server", []), 0.95), 1),
        "api_server_p95_ms_by_path": api.get("server_p95_ms_by_path", {}),
        # The CPU the request's own thread used in Django. `queue` and `turn` (waiting for a turn in the
        # web process, and the turn) were the lane threads' figures; standard workers have no such
        # turns, so they are null, kept for comparison with older reports.
        **{
            f"api_{name}_p{q}_ms": round(1000 * pct(values, q / 100), 1) if values else None
            for name in ("queue", "turn", "cpu")
            for q in (50, 95)
            for values in [api.get("phases", {}).get(name, [])]
        },
        "sockets": args.sockets,
        "socket_errors": len(live["errors"]),
        # Sockets that dropped and came back (resuming from the highest event seen, as the browser does).
        "socket_reconnects": len(live["reconnects"]),
        "first_reconnect_reasons": live["reconnects"][:3],
        "alerts_raised": live["alerts"],
        "alert_deliveries": live["deliveries"],
        "alert_deliveries_missing": live["missing"],
        # For each socket that missed any: which alerts (seconds into the run) and when it reconnected.
        "alert_deliveries_missing_detail": live["missed_detail"],
        "alert_time_p50_s": round(pct(live["times"], 0.5), 3),
        "alert_time_p95_s": round(pct(live["times"], 0.95), 3),
        "detection_queue_left": backlog,
        # Meter sets with readings not yet through detection at the end, and the oldest such reading.
        "detection_sets_pending": detection_lag[0],
        "detection_oldest_pending": detection_lag[1].isoformat() if detection_lag[1] else None,
        # CPU seconds each process used (setup included for the servers), to see where the cores went.
        "cpu_seconds": {name: round(value, 1) for name, value in sorted(cpu.items())}
        | {"senders": [item["cpu_s"] for item in sent], "api_clients": api["cpu_s"]},
        "setup_seconds": round(setup_seconds, 1),
        # Per process: peak, and the mean of the first and of the last minute (flat when they agree).
        "memory_mb": {
            name: {
                "peak": round(peaks[name] / 1024, 1),
                "first_minute": round(statistics.mean(values[:60]) / 1024, 1),
                "last_minute": round(statistics.mean(values[-60:]) / 1024, 1),
                # The mean of each minute: a leak climbs to the end, a warm-up levels off.
                "by_minute": [
                    round(statistics.mean(values[k : k + 60]) / 1024) for k in range(0, len(values) - 59, 60)
                ],
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


def _postmaster_pid(database: str) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (its CPU includes its backends')."""
    import psycopg

    # Read while the backend lives: once the connection closes its process is gone (the figure was
    # missing from a soak's report for that).
    with psycopg.connect(database) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        try:
            return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            return None


def _queue_depth(url: str) -> int | None:
    """Tasks still waiting on the detection queue (detection that has not caught up)."""
    import redis

    try:
        return int(redis.Redis.from_url(url).llen("detection"))
    except redis.RedisError:
        return None


def _ingest_command(threads: int) -> tuple[str, ...]:
    """A gateways' process: niced, so people come first, as docker-compose runs it."""
    return ("nice", "-n", "5", *INGEST_SERVER, "--threads", str(threads))


def _gunicorn_worker(master: int) -> int:
    """The worker under a gunicorn master (the process that serves), or the master while it has none."""
    return next((pid for pid in process_tree(master) if pid != master), master)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int) -> None:
    """Until the server on `port` answers HTTP: a gunicorn master listens before its worker has
    imported Django, and a first request sent then waits for the import (it timed out the bench's
    sockets and API clients at the start of a run)."""
    import http.client

    deadline = time.time() + 120
    while time.time() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/health")
            conn.getresponse().read()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.3)
        finally:
            conn.close()
    raise SystemExit("server did not start")


if __name__ == "__main__":
    main()
