"""API latency under load: 50 concurrent clients against a running server, per endpoint.

    # 1. a campus on PostgreSQL, and the demo logins (DEBUG only)
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wattwatch_api
    DEBUG=1 .venv/bin/python manage.py simulate_campus --scale demo --seed 3
    DEBUG=1 .venv/bin/python manage.py shell -c "from meters.services import demo_users_ensure; demo_users_ensure()"
    # 2. the server as in production: gunicorn with one uvicorn worker per core, a connection pool,
    #    Server-Timing on, throttles opened for one user hammering it (DEBUG off: Django's debug query
    #    log would be measured too)
    DEBUG=0 SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 DB_POOL_MAX_SIZE=20 \
      REDIS_URL=redis://127.0.0.1:6379/7 API_RATE_USER=100000000/minute SERVER_TIMING=1 \
      .venv/bin/gunicorn config.asgi:application --worker-class uvicorn_worker.UvicornWorker \
      --bind 127.0.0.1:8011 --workers 2
    # 3. the load
    .venv/bin/python bench/api.py --url http://127.0.0.1:8011 [--clients 50] [--duration 30] [--json]

Each client is a thread with its own keep-alive connection and the facility manager's JWT; it
walks the endpoints in a shuffled order until the time is up. Server time is the response's
`Server-Timing` header: `srv` the wall time inside Django (all middleware, view and ORM; it
stretches with every other request the process serves at once), `cpu` the request thread's own
CPU time; client time is the round trip, queueing included. Target: server p95 < 50 ms
for list and analytics endpoints. With 50 clients that never pause, the round trip is set by
Little's law (clients / throughput), whatever the server does; each request's server time
stretches with the others its process serves at once (they share one interpreter lock).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import statistics
import threading
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

DEMO_PASSWORD_HINT = "$BENCH_PASSWORD, else the demo logins' password (DEBUG only)"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Api:
    def __init__(self, url: str, token: str | None = None) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, bytes, float, float, float]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        client_ms = (time.perf_counter() - started) * 1000
        timing = dict(
            part.strip().split(";dur=") for part in (response.getheader("Server-Timing") or "app;dur=nan").split(",")
        )
        cpu_ms = float(timing.get("cpu", "nan"))
        return response.status, payload, float(timing["app"]), cpu_ms, client_ms


def endpoints(api: Api) -> list[str]:
    """The list and analytics endpoints, and one room's and one meter's series, with real ids."""

    def first(path: str) -> dict:
        status, body, *_ = api.request("GET", path)
        assert status == 200, (path, status, body[:200])
        return json.loads(body)["results"][0]

    room = first("/api/v1/rooms?page_size=1")
    meter = first(f"/api/v1/meters?room={room['id']}")
    last = meter["last_reading_at"] or "2025-01-01T00:00:00Z"
    end_at = dt.datetime.fromisoformat(last.replace("Z", "+00:00"))
    end = end_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    month = (end_at - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    paths = [
        "/api/v1/sites",
        "/api/v1/hostels",
        "/api/v1/rooms",
        "/api/v1/meters",
        "/api/v1/weather",
        "/api/v1/occupancy",
        "/api/v1/customers",
        "/api/v1/tariffs",
        "/api/v1/transformers",
        "/api/v1/alerts",
        "/api/v1/analytics/overview?days=7",
        "/api/v1/analytics/grid-health",
        "/api/v1/analytics/hostel-comparison?days=30",
        "/api/v1/forecasts",
        "/api/v1/segments",
        "/api/v1/transformer-risks",
        "/api/v1/model-versions",
        f"/api/v1/rooms/{room['id']}",
        f"/api/v1/meters/{meter['id']}/readings?resolution=raw&end={end}",
        f"/api/v1/meters/{meter['id']}/readings?resolution=hourly&end={end}",
        f"/api/v1/rooms/{room['id']}/readings?resolution=daily&end={end}&start={month}",
    ]
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="manager")
    parser.add_argument("--password", help=f"Default: {DEMO_PASSWORD_HINT}.")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="Seconds of load after warm-up.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    password = args.password or os.environ.get("BENCH_PASSWORD", "wattwatch-demo")

    status, body, *_ = Api(args.url).request(
        "POST", "/api/v1/auth/token", {"username": args.username, "password": password}
    )
    assert status == 200, body[:300]
    token = json.loads(body)["access"]
    paths = endpoints(Api(args.url, token))
    for path in paths:  # warm-up: imports, connections, caches
        assert Api(args.url, token).request("GET", path)[0] == 200, path

    server: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    client: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    stop_at = time.perf_counter() + args.duration

    def worker(seed: int) -> None:
        api = Api(args.url, token)
        rng = random.Random(seed)
        while time.perf_counter() < stop_at:
            order = paths[:]
            rng.shuffle(order)
            for path in order:
                if time.perf_counter() >= stop_at:
                    return
                status, _, server_ms, cpu_ms, client_ms = api.request("GET", path)
                with lock:
                    if status != 200:
                        errors[path] += 1
                    server[path].append(server_ms)
                    cpu[path].append(cpu_ms)
                    client[path].append(client_ms)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    rows: list[dict[str, Any]] = []
    for path in paths:
        rows.append(
            {
                "endpoint": path.split("?")[0] + ("?" + path.split("?")[1] if "resolution" in path else ""),
                "requests": len(server[path]),
                "errors": errors[path],
                "server_p50_ms": round(statistics.median(server[path]), 2),
                "server_p95_ms": round(percentile(server[path], 0.95), 2),
                "cpu_p50_ms": round(statistics.median(cpu[path]), 2),
                "cpu_p95_ms": round(percentile(cpu[path], 0.95), 2),
                "client_p50_ms": round(statistics.median(client[path]), 2),
                "client_p95_ms": round(percentile(client[path], 0.95), 2),
            }
        )
    total = sum(row["requests"] for row in rows)
    summary = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "endpoints": rows,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{args.clients} clients, {elapsed:.1f} s, {total} requests, {total / elapsed:.1f} req/s")
    print(
        f"{'endpoint':<60} {'n':>6} {'err':>4} {'srv p50':>8} {'srv p95':>8} {'cpu p50':>8} {'cpu p95':>8} "
        f"{'cli p50':>8} {'cli p95':>8}"
    )
    for row in rows:
        print(
            f"{row['endpoint'][:60]:<60} {row['requests']:>6} {row['errors']:>4} {row['server_p50_ms']:>8} "
            f"{row['server_p95_ms']:>8} {row['cpu_p50_ms']:>8} {row['cpu_p95_ms']:>8} {row['client_p50_ms']:>8} "
            f"{row['client_p95_ms']:>8}"
        )


if __name__ == "__main__":
    main()
