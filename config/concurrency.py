"""At most WEB_CONCURRENCY_LIMIT HTTP requests inside Django at once per web process; the rest wait.

Django runs each request's synchronous code in a thread of its own, and the threads share one
interpreter lock: 25 requests in flight on one process each take 25 times their own CPU time and
finish late together. Letting a few in at a time and queueing the rest in the event loop (which
costs nothing while they wait) keeps each request's own time close to its CPU time and raises
throughput (measured on the large campus, 50 API clients on 2 cores: see bench/api.py). WebSockets
are not limited: they are long-lived and spend their time waiting.
"""

from __future__ import annotations

import asyncio
from typing import Any


class ConcurrencyLimit:
    """ASGI middleware: an asyncio semaphore around HTTP requests; 0 means no limit."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:  # created on the server's own event loop
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)
