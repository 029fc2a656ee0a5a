"""`Server-Timing: app;dur=<ms>, cpu;dur=<ms>` on API responses, when settings.SERVER_TIMING is on.

Off by default: it tells any client how long the server worked. bench/load.py and bench/api.py turn it
on for the processes they start, to split a request's time inside Django from the network's.
`app` is wall time inside Django (it grows with everything else the process is doing at once);
`cpu` is the CPU time of the request's own thread: its cost, whatever the contention.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    """Outermost middleware, so the figure covers every other middleware, the view and the ORM."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.SERVER_TIMING:
            raise MiddlewareNotUsed  # Django leaves it out of the chain: no cost when off
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started, cpu_started = time.perf_counter(), time.thread_time()
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
            response["Server-Timing"] = f"app;dur={wall * 1000:.2f}, cpu;dur={cpu * 1000:.2f}"
        return response
