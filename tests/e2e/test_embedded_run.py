"""`make run` on a fresh machine: one process, SQLite, in-memory layer, Celery in threads."""

from __future__ import annotations

import asyncio
import json
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
import websockets

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
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
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"make run exited early:\n{(data_dir / 'server.log').read_text()[-3000:]}")
            try:
                if requests.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
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


@pytest.mark.e2e
def test_demo_login_shows_the_landing_page_with_real_data(embedded_server: str) -> None:
    page = login(embedded_server, "warden_a").get(f"{embedded_server}/", timeout=10)
    assert "Hostel A" in page.text
    assert "Hostel B" not in page.text
    assert "RM-A" in page.text  # a real room meter's latest reading


@pytest.mark.e2e
def test_socket_receives_a_push_from_a_celery_task_run_by_beat(embedded_server: str) -> None:
    session = login(embedded_server, "manager")
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    ws_url = embedded_server.replace("http://", "ws://") + "/ws/alerts/"

    async def listen() -> dict[str, object]:
        async with websockets.connect(ws_url, additional_headers={"Cookie": cookie, "Origin": embedded_server}) as sock:
            assert json.loads(await sock.recv())["type"] == "hello"
            while True:
                event = json.loads(await asyncio.wait_for(sock.recv(), timeout=30))
                if event["type"] == "system.heartbeat":
                    return event

    event = asyncio.run(listen())
    assert event["worker"]
    health = requests.get(f"{embedded_server}/health", timeout=5).json()
    worker = next(check for check in health["checks"] if check["name"] == "worker")
    assert worker["ok"] is True


@pytest.mark.e2e
def test_socket_without_a_session_is_refused(embedded_server: str) -> None:
    ws_url = embedded_server.replace("http://", "ws://") + "/ws/alerts/"

    async def attempt() -> None:
        async with websockets.connect(ws_url, additional_headers={"Origin": embedded_server}) as sock:
            await asyncio.wait_for(sock.recv(), timeout=5)

    with pytest.raises((websockets.exceptions.InvalidStatus, websockets.exceptions.ConnectionClosed)):
        asyncio.run(attempt())
