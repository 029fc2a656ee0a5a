"""Prometheus metrics at /metrics (prometheus-client): HTTP, ingestion, alerts, sockets, Celery, backlogs.

Counters and histograms live in the process that counts them (HTTP here; readings in meters.metrics;
alerts and sockets in alerts.metrics; Celery tasks below). gunicorn runs several workers and Celery
forks a pool, so with PROMETHEUS_MULTIPROC_DIR set (docker-compose sets it) every process writes its
samples to files there and a scrape sums them (prometheus-client's multiprocess mode;
gunicorn.conf.py empties the directory at start and retires dead workers' gauges). Queue lengths
and the detection backlog are read from Redis at scrape time, so any process reports them whole.
Celery workers serve their own samples on METRICS_WORKER_PORT (config/celery.py). Access: the
internal network, or a bearer token when METRICS_TOKEN is set (metrics_allowed). docs/metrics.md.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

HTTP_REQUESTS = Counter(
    "wattwatch_http_requests", "HTTP requests answered, by method, route and status.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "wattwatch_http_request_duration_seconds",
    "Time to answer an HTTP request inside Django, by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TASK_DURATION = Histogram(
    "wattwatch_celery_task_duration_seconds",
    "Celery task run time, by task and final state.",
    ["task", "state"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
)


def _route(request: HttpRequest) -> str:
    """The URL pattern, not the path: /api/v1/meters/<int:pk>/readings, one series for every meter."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return "/" + (match.route or match.view_name or "")


class HttpMetricsMiddleware:
    """Outermost: counts and times every request, sync (ingest's gthread workers) or async (web)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._async_call(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._observe(request, response, started)
        return response

    async def _async_call(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = await self.get_response(request)
        self._observe(request, response, started)
        return response

    @staticmethod
    def _observe(request: HttpRequest, response: HttpResponse, started: float) -> None:
        route, method = _route(request), request.method or "GET"
        HTTP_REQUESTS.labels(method=method, route=route, status=str(response.status_code)).inc()
        HTTP_LATENCY.labels(method=method, route=route).observe(time.perf_counter() - started)


_task_started: dict[str, float] = {}


def task_started(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _task_started[task_id] = time.perf_counter()


def task_finished(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    started = _task_started.pop(task_id, None) if task_id else None
    if started is not None and task is not None:
        TASK_DURATION.labels(task=task.name, state=state or "UNKNOWN").observe(time.perf_counter() - started)


class BacklogCollector(Collector):
    """Read at scrape time: Celery queue lengths and the streaming-detection backlog."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from analytics.selectors.system import queue_depths
        from predictions.detection.streaming import detection_backlog

        queues = GaugeMetricFamily(
            "wattwatch_celery_queue_length", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        for queue, depth in queue_depths().items():
            if depth is not None:
                queues.add_metric([queue], depth)
        yield queues
        backlog = detection_backlog()
        if backlog is not None:
            count, oldest = backlog
            yield GaugeMetricFamily(
                "wattwatch_detection_backlog_sets", "Meter sets with readings not yet through detection.", value=count
            )
            lag = max(0.0, time.time() - oldest.timestamp()) if oldest is not None else 0.0
            yield GaugeMetricFamily(
                "wattwatch_detection_backlog_seconds", "Age of the oldest interval waiting for detection.", value=lag
            )


def metrics_registry() -> CollectorRegistry:
    """Every process's samples (multiprocess mode) or this process's, plus the scrape-time gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ThisProcess())
    registry.register(BacklogCollector())
    return registry


class _ThisProcess(Collector):
    """This process's metrics (the default registry: ours, and Python's GC and process figures)."""

    def collect(self) -> Iterable[Any]:
        return REGISTRY.collect()


def _internal(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics_allowed(request: HttpRequest) -> bool:
    """A bearer token when METRICS_TOKEN is set; otherwise the peer and every forwarded hop it names
    must be on an internal network (so a request relayed by a load balancer from outside is refused)."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode())
    hops = [request.META.get("REMOTE_ADDR", "")]
    hops += [hop for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    return all(_internal(hop) for hop in hops)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics in Prometheus's text format."""
    if not metrics_allowed(request):
        return HttpResponse(
            "metrics are served to the internal network, or with METRICS_TOKEN as a bearer token\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
