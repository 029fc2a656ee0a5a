"""The Celery application: settings come from Django's, prefixed CELERY_."""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

_eager_caller_id: ContextVar[str | None] = ContextVar("eager_caller_id", default=None)


class RequestIdTask(Task):
    """Keeps the request id across a task run eagerly (CELERY_TASK_ALWAYS_EAGER, tests): django-guid reads
    it from the message's headers, which an eager call has none of, so it gave the task a new id and then
    cleared the caller's for the rest of the request. A worker's tasks are untouched."""

    def apply(self, *args: Any, **kwargs: Any) -> Any:
        from django_guid import get_guid, set_guid

        caller = get_guid()
        token = _eager_caller_id.set(caller)
        try:
            return super().apply(*args, **kwargs)
        finally:
            _eager_caller_id.reset(token)
            if caller:
                set_guid(caller)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        caller = _eager_caller_id.get()
        if caller and self.request.is_eager:
            from django_guid import set_guid

            set_guid(caller)
        return super().__call__(*args, **kwargs)


app = Celery("wattwatch", task_cls="config.celery:RequestIdTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
