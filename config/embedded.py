"""Celery inside the web process for the embedded mode: a real worker and a real beat, in threads.

The worker consumes from the in-memory broker of this process, and beat reads the schedules
from the database (django-celery-beat), exactly as the separate processes do in production.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.beat import EmbeddedService
from celery.worker import WorkController

from config.celery import app

logger = logging.getLogger(__name__)


class EmbeddedCelery:
    """A worker and a beat scheduler running in daemon threads of the current process."""

    def __init__(self, *, concurrency: int = 1) -> None:
        self.worker = WorkController(
            app=app,
            pool_cls="solo",
            concurrency=concurrency,
            loglevel="INFO",
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            hostname="embedded@wattwatch",
        )
        self.beat: Any = EmbeddedService(app, thread=True, scheduler_cls=app.conf.beat_scheduler)
        self._thread = threading.Thread(target=self.worker.start, name="celery-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.beat.start()
        logger.info("embedded Celery worker and beat started")

    def stop(self) -> None:
        self.beat.stop()
        self.worker.stop(in_sighandler=False)
