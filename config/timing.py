"""`Server-Timing: app;dur=<ms>, cpu;dur=<ms>` on API responses, read by bench/api.py.

`app` is wall time inside Django (it grows with everything else the process is doing at once);
`cpu` is the CPU time of the request's own thread: its cost, whatever the contention.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    """Outermost middleware, so the figure covers every other middleware, the view and the ORM."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started, cpu_started = time.perf_counter(), time.thread_time()
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
            response["Server-Timing"] = f"app;dur={wall * 1000:.2f}, cpu;dur={cpu * 1000:.2f}"
        return response
