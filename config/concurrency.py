"""At most WEB_CONCURRENCY_LIMIT HTTP requests inside Django at once per web process; the rest wait.

Django runs each request's synchronous code in a thread of its own, and the threads share one
interpreter lock: 25 requests in flight on one process each take 25 times their own CPU time and
finish late together. Letting a few in at a time and queueing the rest in the event loop (which
costs nothing while they wait) keeps each request's own time close to its CPU time and raises
throughput (measured on the large campus, 50 API clients on 2 cores: see bench/api.py).

A request leaves its place once its response starts: sending the body to a slow reader is the event
loop's work, and holding the place for it stalled every request behind a 79 kB alert list (measured:
server time 56 ms, round trip 3.3 s at the 95th percentile).

Bulk ingestion (a gateway's batch of up to 10,000 readings takes a few hundred milliseconds) has a
lane of its own with the same limit, so a page or an API call never waits behind an upload.
WebSockets are not limited: they are long-lived and spend their time waiting.

API responses say how long they waited for their turn and how long they then took until their
response started, in `Server-Timing` (`queue` and `turn`, beside Django's own `app`), so a slow
round trip can be told apart: waiting in line, or slow inside.

Each place in a lane is a sync thread of its own that lives as long as the process (a
single-thread executor given to asgiref's ThreadSensitiveContext): Django would start a new thread
for every request and join it at the end, and under load that start and join were 7.7 % of a web
process's samples (py-spy, load bench), the start waiting its turn for a core before the request
could begin. Without a pool (`DB_POOL_MAX_SIZE` 0) each place's thread keeps its persistent
connection (CONN_MAX_AGE, health-checked before reuse); with one, each request checks one out.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext

BULK_PATHS = ("/api/v1/readings/batch",)


class ConcurrencyLimit:
    """ASGI middleware: `limit` places per lane (bulk ingestion, everything else), each a sync thread; 0 = no limit."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._lanes: dict[str, asyncio.Queue[ThreadPoolExecutor]] = {}

    def _lane(self, name: str) -> asyncio.Queue[ThreadPoolExecutor]:
        if name not in self._lanes:  # created on the server's own event loop
            places: asyncio.Queue[ThreadPoolExecutor] = asyncio.Queue()
            for k in range(self.limit):
                places.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-{k}"))
            self._lanes[name] = places
        return self._lanes[name]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        places = self._lane("bulk" if scope.get("path", "").startswith(BULK_PATHS) else "interactive")
        arrived = time.perf_counter()
        place = await places.get()
        admitted = time.perf_counter()
        held = True
        timed = scope.get("path", "").startswith("/api/")

        async def sending(message: dict[str, Any]) -> None:
            nonlocal held
            if held and message["type"] == "http.response.start":
                # The next request may start on this thread now. What is left of this one there
                # (closing the response: request_finished, which returns the database connection)
                # is a call of its own: it may run between the next request's request_started and
                # its view, never inside a view or a transaction.
                held = False
                places.put_nowait(place)
                if timed:
                    queue, turn = 1000 * (admitted - arrived), 1000 * (time.perf_counter() - admitted)
                    timing = f"queue;dur={queue:.2f}, turn;dur={turn:.2f}".encode()
                    message = {**message, "headers": [*message.get("headers", []), (b"server-timing", timing)]}
            await send(message)

        try:
            # Django's own ThreadSensitiveContext, inside, then uses this one: this place's thread.
            async with ThreadSensitiveContext(executor=place):
                await self.app(scope, receive, sending)
        finally:
            if held:
                places.put_nowait(place)
