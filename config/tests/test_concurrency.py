"""The per-process limit on HTTP requests inside Django: the rest wait their turn, sockets pass."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from config.concurrency import ConcurrencyLimit


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


@pytest.mark.asyncio
async def test_at_most_the_limit_of_http_requests_run_at_once_and_all_are_served() -> None:
    app = _App()
    limited = ConcurrencyLimit(app, 2)
    await asyncio.gather(*(limited({"type": "http"}, None, None) for _ in range(10)))
    assert app.most == 2
    assert app.inside == 0


@pytest.mark.asyncio
async def test_websockets_and_a_zero_limit_are_not_held_back() -> None:
    sockets = _App()
    await asyncio.gather(*(ConcurrencyLimit(sockets, 1)({"type": "websocket"}, None, None) for _ in range(5)))
    assert sockets.most == 5
    unlimited = _App()
    await asyncio.gather(*(ConcurrencyLimit(unlimited, 0)({"type": "http"}, None, None) for _ in range(5)))
    assert unlimited.most == 5
