"""The per-process limit on HTTP requests inside Django: the rest wait their turn, sockets pass."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async

from config.concurrency import ConcurrencyLimit


async def _sink(message: dict[str, Any]) -> None:
    """A client that reads at once."""


class _App:
    """An ASGI app that records how many calls are inside it at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        await asyncio.sleep(0.02)
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"x"})


@pytest.mark.asyncio
async def test_at_most_the_limit_of_http_requests_run_at_once_and_all_are_served() -> None:
    app = _App()
    limited = ConcurrencyLimit(app, 2)
    await asyncio.gather(*(limited({"type": "http"}, None, _sink) for _ in range(10)))
    assert app.most == 2
    assert app.inside == 0


@pytest.mark.asyncio
async def test_websockets_and_a_zero_limit_are_not_held_back() -> None:
    sockets = _App()
    await asyncio.gather(*(ConcurrencyLimit(sockets, 1)({"type": "websocket"}, None, _sink) for _ in range(5)))
    assert sockets.most == 5
    unlimited = _App()
    await asyncio.gather(*(ConcurrencyLimit(unlimited, 0)({"type": "http"}, None, _sink) for _ in range(5)))
    assert unlimited.most == 5


@pytest.mark.asyncio
async def test_an_upload_in_progress_never_holds_up_a_page() -> None:
    app = _App()
    limited = ConcurrencyLimit(app, 1)
    uploads = [limited({"type": "http", "path": "/api/v1/readings/batch"}, None, _sink) for _ in range(3)]
    pages = [limited({"type": "http", "path": "/dashboard/"}, None, _sink) for _ in range(3)]
    await asyncio.gather(*uploads, *pages)
    assert app.most == 2  # one upload and one page at a time, side by side


@pytest.mark.asyncio
async def test_a_slow_reader_does_not_keep_the_next_request_waiting() -> None:
    app = _App()
    limited = ConcurrencyLimit(app, 1)
    started: list[float] = []

    async def slow_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            await asyncio.sleep(0.5)  # the client reads slowly

    async def quick(message: dict[str, Any]) -> None:
        started.append(asyncio.get_running_loop().time())

    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.gather(limited({"type": "http"}, None, slow_send), limited({"type": "http"}, None, quick))
    assert started[0] - began < 0.2  # the second response started while the first body was still sending


@pytest.mark.asyncio
async def test_api_responses_say_how_long_they_waited_for_their_turn() -> None:
    limited = ConcurrencyLimit(_App(), 1)
    starts: list[dict[str, Any]] = []

    async def record(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            starts.append(message)

    await asyncio.gather(*(limited({"type": "http", "path": "/api/v1/health"}, None, record) for _ in range(3)))
    await limited({"type": "http", "path": "/dashboard/"}, None, record)
    timings = [dict(m.get("headers", [])).get(b"server-timing", b"").decode() for m in starts]
    queues = [float(t.split("queue;dur=")[1].split(",")[0]) for t in timings[:3]]
    turns = [float(t.split("turn;dur=")[1]) for t in timings[:3]]
    assert sorted(queues)[0] < 5  # the first went straight in
    assert sorted(queues)[2] >= 35  # the third waited for two 20 ms turns
    assert all(turn >= 19 for turn in turns)
    assert timings[3] == ""  # pages are not timed


def _thread_name() -> str:
    return threading.current_thread().name


class _ThreadApp:
    """An ASGI app whose sync part (as Django's handler runs it) records the thread it ran on."""

    def __init__(self) -> None:
        self.threads: list[str] = []  # names: the OS reuses a finished thread's ident

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async with ThreadSensitiveContext():  # as Django's ASGIHandler wraps each request
            self.threads.append(await sync_to_async(_thread_name, thread_sensitive=True)())
            await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"x"})


@pytest.mark.asyncio
async def test_each_place_is_one_sync_thread_that_serves_request_after_request() -> None:
    app = _ThreadApp()
    limited = ConcurrencyLimit(app, 2)
    for _ in range(3):
        await asyncio.gather(*(limited({"type": "http", "path": "/api/v1/hostels"}, None, _sink) for _ in range(4)))
    assert len(app.threads) == 12
    assert len(set(app.threads)) == 2  # two places, two threads, kept for every later request
    await limited({"type": "http", "path": "/api/v1/readings/batch"}, None, _sink)
    assert app.threads[-1] not in app.threads[:-1]  # uploads have threads of their own
    # without a limit, Django's way: a thread per request
    unlimited = _ThreadApp()
    for _ in range(3):
        await ConcurrencyLimit(unlimited, 0)({"type": "http"}, None, _sink)
    assert len(set(unlimited.threads)) == 3
