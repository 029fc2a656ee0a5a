"""The quarantine's bounds: a cap of pending rows per sender, and a retention period.

One junk batch after another must not grow the database without end: past the cap, a sender's
rejected rows are counted and logged, not kept; every row is deleted QUARANTINE_RETENTION_DAYS
after it arrived, whatever its status.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from meters.models import QuarantinedReading

logger = logging.getLogger(__name__)
DELETE_BATCH = 10_000


def quarantine_room(*, sender: dict[str, object]) -> int | None:
    """How many more rows this sender may keep in the quarantine (None: no cap, a trusted caller)."""
    gateway_id, user_id = sender.get("sender_gateway_id"), sender.get("sender_user_id")
    if isinstance(gateway_id, int):
        mine = QuarantinedReading.objects.filter(sender_gateway_id=gateway_id)
    elif isinstance(user_id, int):
        mine = QuarantinedReading.objects.filter(sender_user_id=user_id)
    else:
        return None
    kept = mine.filter(status=QuarantinedReading.Status.PENDING).count()
    return max(0, settings.QUARANTINE_MAX_PER_SENDER - kept)


def quarantine_overflow(*, source: str, dropped: int) -> None:
    if dropped:
        logger.warning(
            "quarantine full for %s: %d rejected rows not kept (QUARANTINE_MAX_PER_SENDER=%d)",
            source,
            dropped,
            settings.QUARANTINE_MAX_PER_SENDER,
        )


def quarantine_prune(*, now: dt.datetime | None = None) -> int:
    """Delete rows older than the retention period, in batches; returns how many went."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.QUARANTINE_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(
            QuarantinedReading.objects.filter(received_at__lt=cutoff).values_list("id", flat=True)[:DELETE_BATCH]
        )
        if not ids:
            return deleted
        deleted += QuarantinedReading.objects.filter(id__in=ids).delete()[0]
