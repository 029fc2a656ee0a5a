"""load.py's 50 API clients against the campus already in DATABASE_URL, used in place (not copied).

    DATABASE_URL=postgres://.../scale_university REDIS_URL=redis://127.0.0.1:6379/4 \\
      .venv/bin/python bench/api_in_place.py [--seconds 120] [--clients 50] [--http-workers 2] [--json]

For a campus too large to copy (bench/load.py copies its `--template`: 37 GB for the university).
Starts `--http-workers` gunicorn processes as production serves pages and API (gthread, one thread,
a connection pool, DEBUG off, Server-Timing on), one port each, and runs load.py's API clients
(`load_clients.api_clients`: each GETs the alert list, /health, hostels, meters and the analytics
overview in turn, one request a second, as the facility manager). Reads only: the database is not
changed beyond the manager's session. Prints client and server (Server-Timing) percentiles.
Target (issue 29): API p95 under 100 ms with 50 clients.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_clients import api_clients, pct

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--http-workers", type=int, default=2)
    parser.add_argument("--first-port", type=int, default=8041)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    secret = secrets.token_urlsafe(48)
    os.environ.update(DEBUG="1", SECRET_KEY=secret, LOG_LEVEL="WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="manager"))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    env = {
        **os.environ,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "DB_POOL_MAX_SIZE": os.environ.get("DB_POOL_MAX_SIZE", "10"),
        "SERVER_TIMING": "1",
        "API_RATE_USER": "100000000/minute",
    }
    ports = [args.first_port + k for k in range(args.http_workers)]
    servers = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
                *("--worker-class", "gthread", "--threads", "1", "--workers", "1", "--bind", f"127.0.0.1:{port}"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).read()
                    break
                except OSError as error:
                    if getattr(error, "code", None):  # an HTTP answer (503 if a check fails) is an answer
                        break
                    time.sleep(1)
        load = os.getloadavg()[0]
        out: multiprocessing.Queue = multiprocessing.Queue()
        api_clients(ports, cookie, args.clients, args.think, args.seconds, out)
        found = out.get()
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)
    result = {
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": len(found["latencies"]),
        "errors": len(found["errors"]),
        "error_examples": found["errors"][:5],
        "client_p50_ms": round(1000 * pct(found["latencies"], 0.5), 1),
        "client_p95_ms": round(1000 * pct(found["latencies"], 0.95), 1),
        "server_p95_ms": round(1000 * pct(found["server"], 0.95), 1),
        # A request's own CPU inside Django: what it costs, whatever else shares the cores.
        "cpu_p95_ms": round(1000 * pct(found["phases"].get("cpu", []), 0.95), 1),
        "client_p95_ms_by_path": found["p95_ms_by_path"],
        "server_p95_ms_by_path": found["server_p95_ms_by_path"],
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
