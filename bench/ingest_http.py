"""HTTP batch ingest: separate client processes post 10,000-reading batches to a running server.

    .venv/bin/python bench/ingest_http.py [--batches 20] [--clients 2] [--meters 1000] [--json]
    .venv/bin/python bench/ingest_http.py --url http://host:8000 --key GATEWAYKEY --serials S1,S2,...

Without --url it creates (and drops) the database wattwatch_ingest_bench_http, makes meters and
a gateway token, and starts the production topology's ingest server on a free port, as
docker-compose's `ingest` service runs it (gunicorn gthread workers on config.wsgi, one thread each,
niced; gunicorn.conf.py; production settings, DEBUG off; `--server-workers` processes). Bodies
are generated before the clock starts; each batch is new data (10 consecutive 15-minute
intervals for 1,000 meters, split between the clients: each client is one gateway with its own
meters, as a hostel's gateway would be). Reports readings/s sustained over all batches and the
batch latency percentiles.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, create_meters, django_setup, drop_database, recreate_database

DB = "wattwatch_ingest_bench_http"
START = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)
BATCH = 10_000


def bodies(serials: list[str], first_batch: int, count: int) -> list[bytes]:
    per_meter = BATCH // len(serials)
    out = []
    for batch in range(first_batch, first_batch + count):
        base = START + dt.timedelta(minutes=15 * per_meter * batch)
        stamps = [(base + dt.timedelta(minutes=15 * k)).strftime("%Y-%m-%dT%H:%M:%SZ") for k in range(per_meter)]
        items = [
            {
                "meter": serial,
                "timestamp": stamp,
                "kwh": round(0.1 + (hash((serial, stamp)) % 100) / 500, 3),
                "voltage": 230.5,
            }
            for serial in serials
            for stamp in stamps
        ]
        out.append(json.dumps(items).encode())
    return out


def client(url: str, key: str, payloads: list[bytes], results: multiprocessing.Queue) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    latencies, readings = [], 0
    for body in payloads:
        started = time.perf_counter()
        conn.request(
            "POST",
            "/api/v1/readings/batch",
            body=body,
            headers={"Content-Type": "application/json", "Authorization": f"Gateway {key}"},
        )
        response = conn.getresponse()
        answer = json.loads(response.read())
        latencies.append(time.perf_counter() - started)
        if response.status != 200 or answer["rejected"]:
            raise SystemExit(f"unexpected answer {response.status}: {str(answer)[:300]}")
        readings += answer["accepted"] + answer["updated"] + answer["unchanged"]
    results.put((readings, latencies))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"),
        "LOG_LEVEL": "WARNING",
    }
    # gunicorn reads gunicorn.conf.py from the working directory, as in production.
    command = ["nice", "-n", "5", sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    command += ["--worker-class", "gthread", "--threads", "1", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    # Until it answers HTTP: a gunicorn master listens before its worker has imported Django.
    deadline = time.time() + 120
    while time.time() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/accounts/login/")  # any answer will do; /health logs the absent worker
            connection.getresponse().read()
            return server
        except (OSError, http.client.HTTPException):
            time.sleep(0.3)
        finally:
            connection.close()
    server.kill()
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=20, help="Batches in total, shared by the clients.")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_SERVER", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--server-workers", type=int, default=2, help="Ingest processes (docker-compose: 2).")
    parser.add_argument("--url", help="A running server; then --key and --serials are required.")
    parser.add_argument("--key")
    parser.add_argument("--serials")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    server = None
    if args.url:
        url, key, serials = args.url, args.key, args.serials.split(",")
    else:
        database = recreate_database(args.server, DB)
        django_setup(database)
        from meters.services import gateway_token_create

        meters = create_meters(args.meters)
        _, key = gateway_token_create(name="bench", meter_ids=[meter_id for meter_id, _ in meters])
        serials = [serial for _, serial in meters]
        port = free_port()
        server = start_server(database, port, args.server_workers)
        url = f"http://127.0.0.1:{port}"
    try:
        # One warm-up batch (imports, first connection), not counted.
        warm = multiprocessing.Queue()
        client(url, key, bodies(serials, 10 * args.batches + 10, 1), warm)
        warm.get()
        per_client = args.batches // args.clients
        # Each client is one gateway with its own meters (a hostel's), as in the field.
        share = len(serials) // args.clients
        payloads = [
            bodies(serials[index * share : (index + 1) * share], 0, per_client) for index in range(args.clients)
        ]
        results: multiprocessing.Queue = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=client, args=(url, key, payload, results)) for payload in payloads]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        collected = [results.get() for _ in workers]
        elapsed = time.perf_counter() - started
        for worker in workers:
            worker.join()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
            drop_database(args.server, DB)
    readings = sum(item[0] for item in collected)
    latencies = sorted(latency for item in collected for latency in item[1])
    report = {
        "batches": len(latencies),
        "batch_size": BATCH,
        "clients": args.clients,
        "readings": readings,
        "seconds": round(elapsed, 2),
        "readings_per_s": round(readings / elapsed),
        "batch_latency_p50_s": round(statistics.median(latencies), 3),
        "batch_latency_max_s": round(latencies[-1], 3),
    }
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:22} {value}")


if __name__ == "__main__":
    main()
