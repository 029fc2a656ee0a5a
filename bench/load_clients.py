"""The load benchmark's clients and probes: gateway senders, API clients, sockets, /proc readings.

Used by bench/load.py, which starts the servers and reports; each sender and the API clients run in
processes of their own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

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


def cpu_seconds_with_reaped(pid: int) -> float:
    """CPU of a process, of its exited children, and of its live ones: PostgreSQL's postmaster and backends."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in process_tree(pid) if child != pid)


def _own_cpu() -> float:
    times = os.times()
    return round(times.user + times.system, 1)


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
    began, first_at = time.perf_counter(), time.time()
    last_at = first_at
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
        last_at = time.time()  # the last answer, before any pacing sleep
        batch += 1
        # Pace: the next batch is due when this one's readings would have been spent at `rate`.
        due = began + batch * (len(serials) * steps) / rate
        time.sleep(max(0.0, due - time.perf_counter()))
    out.put(
        {
            "readings": sent,
            "errors": errors,
            "latencies": latencies,
            # Wall clock (comparable across the senders): from the first batch sent to the last answered.
            "first_at": first_at,
            "last_at": last_at,
            "pid": os.getpid(),
            "cpu_s": _own_cpu(),
            **_peak(),
        }
    )


def _peak() -> dict[str, int]:
    current, peak = rss_kb(os.getpid())
    return {"rss_kb": current, "peak_kb": peak}


def _server_timing(header: str) -> dict[str, float]:
    """`app;dur=1.2, queue;dur=3.4` -> {"app": 1.2, "queue": 3.4} (milliseconds)."""
    found = {}
    for part in header.split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            found[name] = float(duration)
    return found


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
    phases: dict[str, list[float]] = {}  # Server-Timing queue (waiting for a turn), turn (until it answered), cpu
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
                timing = _server_timing(response.getheader("Server-Timing") or "")
                with lock:
                    latencies.append(time.perf_counter() - started)
                    by_path.setdefault(path, []).append(time.perf_counter() - started)
                    if "app" in timing:
                        server.setdefault(path, []).append(timing["app"] / 1000)
                    for name in ("queue", "turn", "cpu"):
                        if name in timing:
                            phases.setdefault(name, []).append(timing[name] / 1000)
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
            "cpu_s": _own_cpu(),
            "latencies": latencies,
            "server": all_server,
            "phases": phases,
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

    reconnects: list[str] = []
    began_at: list[float] = []

    missed_detail: list[dict[str, Any]] = []

    async def listen(k: int) -> None:
        """One browser tab: as static/wattwatch/live.js, a dropped socket reconnects with backoff and
        resumes from the highest event id it saw (the server also replays what was written just
        before it); events it has seen are skipped by id. Each reconnect is counted."""
        url, headers = target(k)
        cursor: int | None = None
        seen: set[int] = set()
        got: set[str] = set()
        away: list[float] = []  # when this socket reconnected, in seconds since the bench began
        first = True
        for attempt in range(5):
            try:
                async with websockets.connect(url, additional_headers=headers, open_timeout=30) as socket:
                    hello = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
                    if cursor is None:  # as live.js: a tab that saw no event yet resumes from the hello's cursor,
                        # 0 when there was none yet (as the page's badge cursor): a socket that drops before
                        # its first event then still gets, on reconnect, what was raised while it was away.
                        cursor = hello.get("last_event_id") or 0
                    if first:
                        connected.append(1)
                        first = False
                    if cursor is not None:
                        await socket.send(json.dumps({"type": "resume", "since": cursor}))
                    while not stop.is_set():
                        try:
                            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=1))
                        except TimeoutError:
                            continue
                        event_id = message.get("event_id")
                        if isinstance(event_id, int):
                            if event_id in seen:
                                continue
                            seen.add(event_id)
                            cursor = event_id if cursor is None else max(cursor, event_id)
                        title = message.get("title")
                        if message.get("type") == "alert.raised" and title in raised_at:
                            got.add(title)
                            arrivals.setdefault(title, []).append(time.perf_counter() - raised_at[title])
                    break
            except Exception as error:
                if attempt == 4:  # counted, the run goes on
                    errors.append(f"socket {type(error).__name__}: {error}")
                    break
                reconnects.append(f"{type(error).__name__}: {error}")
                away.append(round(time.perf_counter() - began_at[0], 1) if began_at else -1.0)
                await asyncio.sleep(1 + attempt)
        lost = [title for title in raised_at if title not in got]
        if lost and len(missed_detail) < 20:  # what a reconnecting socket missed, and when it was away
            raised = {title: round(raised_at[title] - began_at[0], 1) for title in lost[:5]} if began_at else {}
            missed_detail.append({"socket": k, "missed": len(lost), "raised_at_s": raised, "reconnected_at_s": away})

    listeners = []
    for k in range(count):
        listeners.append(asyncio.create_task(listen(k)))
        await asyncio.sleep(0.01)
    deadline = time.perf_counter() + 60
    while len(connected) + len(errors) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
    hostel = await asyncio.to_thread(Hostel.objects.get, pk=hostel_id)
    began = time.perf_counter()
    began_at.append(began)
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
    return {
        "alerts": len(raised_at),
        "deliveries": len(times),
        "missing": missing,
        "times": times,
        "errors": errors,
        "reconnects": reconnects,
        "missed_detail": missed_detail,
    }
