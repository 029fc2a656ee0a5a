"""The Celery application: settings come from Django's, prefixed CELERY_."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("wattwatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _freeze_startup_objects(**kwargs: Any) -> None:
    """In the worker's main process, before it forks its pool: see config/memory.py. The pool
    processes inherit the frozen objects (and share their memory pages), and do nothing more at
    start, where Celery allows each a few seconds to report in."""
    from config.memory import startup_objects_freeze

    startup_objects_freeze()


@task_prerun.connect
def _task_started(**kwargs: Any) -> None:
    from config.metrics import task_started

    task_started(**kwargs)


@task_postrun.connect
def _task_finished(**kwargs: Any) -> None:
    from config.metrics import task_finished

    task_finished(**kwargs)


@worker_init.connect
def _serve_metrics(**kwargs: Any) -> None:
    """A worker's own /metrics on METRICS_WORKER_PORT (its pool's samples summed: multiprocess mode),
    for Prometheus to scrape beside the web processes'."""
    from django.conf import settings

    if settings.METRICS_WORKER_PORT and not settings.EMBEDDED:
        from prometheus_client import start_http_server

        from config.metrics import metrics_registry

        start_http_server(settings.METRICS_WORKER_PORT, registry=metrics_registry())


@worker_process_shutdown.connect
def _retire_metrics(pid: int | None = None, **kwargs: Any) -> None:
    """A pool process that ends leaves the live-sum gauges (prometheus-client multiprocess mode)."""
    if pid and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
