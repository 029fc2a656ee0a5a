"""The Celery application: settings come from Django's, prefixed CELERY_."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

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
