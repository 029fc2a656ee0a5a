"""Helpers for the fault tests: real processes started and stopped by the tests themselves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The database pytest-django created, for subprocesses (never the main one)."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = test_database_url()
    env["DB_CONN_MAX_AGE"] = "0"
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop(process: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def start_worker(
    env: dict[str, str], log: IO[str], *, stall: str | None = None, queues: str | None = None
) -> subprocess.Popen[Any]:
    """A solo-pool worker (of every queue, or of `queues`: "live,detection");
    with `stall`, it loads tests.hardening.stall first (see there)."""
    hostname = f"fault-{uuid.uuid4().hex[:8]}@%h"
    launcher = ["-m", "celery"]
    if stall is not None:
        env = {**env, "FAULT_STALL_TARGET": stall}
        launcher = ["-c", "import tests.hardening.stall; from celery.__main__ import main; main()"]
    command = [sys.executable, *launcher, "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO"]
    command += ["--hostname", hostname, "--without-mingle", "--without-gossip", "--without-heartbeat"]
    if queues is not None:
        command += ["--queues", queues]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


@contextmanager
def private_redis(tmp_path: Path) -> Iterator[tuple[int, Callable[[], None], Callable[[], None]]]:
    """A redis-server of our own on a free port (the shared one is never touched): port, stop, start."""
    port = free_port()
    holder: dict[str, subprocess.Popen[Any]] = {}

    def start() -> None:
        holder["p"] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(lambda: _redis_ping(port), timeout=10, what="private redis-server")

    def halt() -> None:
        stop(holder["p"], signal.SIGKILL)

    start()
    try:
        yield port, halt, start
    finally:
        halt()


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
