"""The Celery application: settings come from Django's, prefixed CELERY_."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("wattwatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_startup_objects(**kwargs: Any) -> None:
    """Each pool process, once it has loaded Django and the task modules: see config/memory.py."""
    from django.urls import get_resolver

    from config.memory import startup_objects_freeze

    get_resolver().url_patterns  # noqa: B018  # the views, and the libraries they import
    startup_objects_freeze()
