"""Shared fixtures for end-to-end and browser tests: a real server started as `make run` starts it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("embedded")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG")}
    env.update(WATTWATCH_DATA_DIR=str(data_dir), WATTWATCH_HEARTBEAT_SECONDS="1", PORT=str(port), HOST="127.0.0.1")
    log = (data_dir / "server.log").open("w")
    server = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Seeding and the first baseline take minutes on a busy machine: EMBEDDED_SERVER_START_SECONDS waits longer.
        deadline = time.monotonic() + int(os.environ.get("EMBEDDED_SERVER_START_SECONDS", "240"))
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"make run exited early:\n{(data_dir / 'server.log').read_text()[-3000:]}")
            try:
                if requests.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting up
                time.sleep(0.5)
        else:
            pytest.fail("server did not answer /health in time")
        assert (data_dir / "wattwatch.sqlite3").exists()
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "login form has a CSRF token"
    response = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": "wattwatch-demo"},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.url == f"{base}/"
    return session
