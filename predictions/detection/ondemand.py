"""Detection on demand (POST /api/v1/detection/run), bounded per user.

A run covers up to a month of readings and goes to the imports queue, so live detection and alerts
never wait behind it. Each user may have at most DETECTION_RUNS_QUEUED_MAX runs queued and not yet
started; past that a request is refused until one starts (the API answers 429). How often a user
may ask is the `detection` API throttle.

The count lives in the shared cache: Redis in production (every web process and worker sees it),
the process's memory when embedded (web and worker are one process there). It goes up when a run is
queued and down when its task starts. A run whose message is lost (a broker flushed by hand) holds
its place until the count expires, COUNT_SECONDS after the first run of a burst was queued.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import signature
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

KEY = "wattwatch:detection-runs-queued:{}"
COUNT_SECONDS = 3600


def _count_add(user_id: int, delta: int) -> int:
    key = KEY.format(user_id)
    cache.add(key, 0, timeout=COUNT_SECONDS)
    try:
        return int(cache.incr(key, delta))
    except ValueError:  # expired between add and incr
        cache.set(key, max(0, delta), timeout=COUNT_SECONDS)
        return max(0, delta)


def detection_runs_queued(*, user_id: int) -> int:
    """Runs this user has queued that have not started yet."""
    return max(0, int(cache.get(KEY.format(user_id)) or 0))


def detection_run_request(*, user_id: int, meter_ids: Sequence[int], start: str, end: str) -> bool:
    """Queue a run for this user when the current transaction commits; False (nothing queued) when
    the user already has DETECTION_RUNS_QUEUED_MAX runs waiting."""
    if _count_add(user_id, 1) > int(settings.DETECTION_RUNS_QUEUED_MAX):
        _count_add(user_id, -1)
        return False

    def enqueue() -> None:
        try:
            signature(
                "predictions.tasks.detect_requested",  # by name: predictions.tasks imports this module
                kwargs={"meter_ids": list(meter_ids), "start": start, "end": end, "user_id": user_id},
            ).delay()
        except Exception:
            _count_add(user_id, -1)  # not queued after all
            raise

    transaction.on_commit(enqueue)
    return True


def detection_run_started(*, user_id: int) -> None:
    """A queued run of this user's has started: it no longer counts against the cap."""
    try:
        if _count_add(user_id, -1) < 0:
            cache.set(KEY.format(user_id), 0, timeout=COUNT_SECONDS)
    except Exception:  # the cache is down: the count expires by itself
        logger.warning("detection run count of user %s not lowered (cache down)", user_id, exc_info=True)
