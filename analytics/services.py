"""Writes for system health."""

from __future__ import annotations

import socket

from django.core.cache import cache
from django.utils import timezone

from alerts.realtime import HeartbeatEvent, broadcast

HEARTBEAT_KEY = "wattwatch:heartbeat:worker"


def heartbeat_record(*, worker: str | None = None) -> HeartbeatEvent:
    """Note that a worker is alive now and tell every open page."""
    at = timezone.now().isoformat()
    name = worker or socket.gethostname()
    cache.set(HEARTBEAT_KEY, {"at": at, "worker": name}, timeout=None)
    event: HeartbeatEvent = {"type": "system.heartbeat", "at": at, "worker": name}
    broadcast(event)
    return event
