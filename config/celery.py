"""The Celery application: settings come from Django's, prefixed CELERY_."""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

from celery import Celery, Task
from celery.signals import worker_init

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


@worker_init.connect
def _freeze_startup_objects(**kwargs: Any) -> None:
    """In the worker's main process, before it forks its pool: see config/memory.py. The pool
    processes inherit the frozen objects (and share their memory pages), and do nothing more at
    start, where Celery allows each a few seconds to report in."""
    from config.memory import startup_objects_freeze

    startup_objects_freeze()
