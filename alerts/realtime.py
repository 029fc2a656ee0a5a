"""Typed live events and the one broadcaster that sends them to WebSocket consumers.

Sync code (services, tasks) calls `broadcast(...)`; the message leaves after the current
transaction commits, so a socket never hears about a row that was rolled back.
"""

from __future__ import annotations

import logging
from typing import Literal, NotRequired, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

EVERYONE_GROUP = "wattwatch.everyone"
MANAGERS_GROUP = "wattwatch.managers"


def hostel_group(hostel_id: int) -> str:
    return f"wattwatch.hostel.{hostel_id}"


class HeartbeatEvent(TypedDict):
    type: Literal["system.heartbeat"]
    at: str
    worker: str


class AlertEvent(TypedDict):
    type: Literal["alert.raised", "alert.updated", "alert.acknowledged", "alert.resolved"]
    id: int
    hostel_id: int | None
    title: str
    severity: str
    status: str
    at: str
    room: NotRequired[str | None]
    # The audit row behind the event: clients keep the last one to resume after a drop.
    event_id: NotRequired[int]
    action: NotRequired[str]
    kind: NotRequired[str]
    # Lets each client keep its own open-alert counter without asking the server.
    previous_status: NotRequired[str | None]
    hostel: NotRequired[str | None]
    url: NotRequired[str]


class HistoryScannedEvent(TypedDict):
    """One scan of stored history finished for a hostel: the one push that stands for its findings."""

    type: Literal["history.scanned"]
    id: int
    hostel_id: int | None
    hostel: str | None
    title: str
    findings: int
    at: str
    url: str


LiveEvent = HeartbeatEvent | AlertEvent | HistoryScannedEvent


def _groups_for(event: LiveEvent) -> list[str]:
    """Managers hear every hostel through their own group; wardens through their hostels' groups."""
    if event["type"] == "system.heartbeat":
        return [EVERYONE_GROUP]
    hostel_id = event.get("hostel_id")
    return [hostel_group(hostel_id), MANAGERS_GROUP] if isinstance(hostel_id, int) else [MANAGERS_GROUP]


def send_now(event: LiveEvent) -> None:
    """Send an event to the consumers of its group at once (outside any transaction)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for group in _groups_for(event):
            async_to_sync(layer.group_send)(group, {"type": "live.event", "event": dict(event)})
    except Exception:
        # A push is best effort: a down Redis must not undo the work that caused it.
        logger.exception("could not push live event %s", event["type"])


def broadcast(event: LiveEvent) -> None:
    """Push an event to the sockets that may see it, once the current transaction commits."""
    transaction.on_commit(lambda: send_now(event))
