"""Celery inside the web process for the embedded mode: real workers and a real beat, in threads.

The workers consume from the in-memory broker of this process, and beat reads the schedules
from the database (django-celery-beat), exactly as the separate processes do in production.
One worker per queue (settings.CELERY_TASK_QUEUES: live, detection, training, imports), each in a thread
of its own with a solo pool, as production runs a worker per queue: the live lane (alerts and
notifications) runs its tasks one after another and never waits behind detection, a training run or an
import's history scan, which each hold only their own lane's thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery
from celery.beat import EmbeddedService
from celery.worker import WorkController
from django.conf import settings

from config.celery import app

logger = logging.getLogger(__name__)


class EmbeddedCelery:
    """A worker per queue and a beat scheduler, running in daemon threads of the current process."""

    def __init__(self, *, concurrency: int = 1) -> None:
        # A worker's queues are state of its Celery app (app.amqp.queues), so each queue gets an app
        # of its own: the same configuration and tasks, and the same in-memory broker (kombu's memory
        # transport keeps one broker per process).
        self.workers = [
            WorkController(
                app=app if i == 0 else _app_copy(),
                pool_cls="solo",
                concurrency=concurrency,
                loglevel="INFO",
                without_heartbeat=True,
                without_mingle=True,
                without_gossip=True,
                hostname=f"embedded-{queue}@wattwatch",
                queues=[queue],
            )
            for i, queue in enumerate(settings.CELERY_TASK_QUEUES)
        ]
        self.beat: Any = EmbeddedService(app, thread=True, scheduler_cls=app.conf.beat_scheduler)
        self._threads = [
            threading.Thread(target=worker.start, name=f"celery-worker-{queue}", daemon=True)
            for worker, queue in zip(self.workers, settings.CELERY_TASK_QUEUES, strict=True)
        ]

    def start(self, *, beat: bool = True) -> None:
        for thread in self._threads:
            thread.start()
        if beat:
            self.beat.start()
        logger.info("embedded Celery workers (%s) and beat started", ", ".join(settings.CELERY_TASK_QUEUES))

    def stop(self) -> None:
        if self.beat.is_alive():
            self.beat.stop()
        for worker in self.workers:
            worker.stop(in_sighandler=False)


def _app_copy() -> Celery:
    """Another Celery app configured as config.celery's, for a second worker in this process."""
    copy = Celery("wattwatch", set_as_current=False)
    copy.config_from_object("django.conf:settings", namespace="CELERY")
    copy.autodiscover_tasks()
    return copy
