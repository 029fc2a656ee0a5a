"""`make run` on a fresh machine: one process, SQLite, in-memory layer, Celery in threads."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests
import websockets

from tests.conftest import login


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
