"""Reads of alerts for pages, the API and sockets, always through the user's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from alerts.models import Alert, AlertComment, AlertEvent
from alerts.realtime import AlertEvent as LiveAlertEvent
from customers.roles import MANAGER_GROUP

LIVE_TYPES: dict[str, str] = {
    AlertEvent.Action.RAISED: "alert.raised",
    AlertEvent.Action.ACKNOWLEDGED: "alert.acknowledged",
    AlertEvent.Action.RESOLVED: "alert.resolved",
}
CATCH_UP_LIMIT = 200


def alert_live_event(*, alert: Alert, event: AlertEvent) -> LiveAlertEvent:
    """The typed socket payload for one audit row (the same live and on catch-up)."""
    return {
        "type": LIVE_TYPES.get(event.action, "alert.updated"),  # type: ignore[typeddict-item]
        "id": alert.pk,
        "event_id": event.pk,
        "action": event.action,
        "kind": alert.kind,
        "hostel_id": alert.hostel_id,
        "hostel": alert.hostel.name if alert.hostel_id and alert.hostel else None,
        "room": alert.room.number if alert.room_id and alert.room else None,
        "title": alert.title,
        "severity": alert.severity,
        "status": event.to_status or alert.status,
        "previous_status": event.from_status or None,
        "at": event.at.isoformat(),
        "url": reverse("alert-detail", args=[alert.pk]),
    }


def alerts_for_user(*, user: Any) -> QuerySet[Alert]:
    """Every alert the user may see, with what a list shows."""
    return Alert.objects.visible_to(user).select_related("hostel", "room", "meter", "assigned_to")


def alert_get_for_user(*, user: Any, alert_id: int) -> Alert | None:
    return alerts_for_user(user=user).filter(pk=alert_id).first()


def alerts_open_count(*, user: Any) -> int:
    """Alerts waiting for someone: open, not yet acknowledged."""
    return int(Alert.objects.visible_to(user).filter(status=Alert.Status.OPEN).count())


def alert_timeline(*, alert: Alert) -> QuerySet[AlertEvent]:
    return alert.events.select_related("actor").order_by("id")


def alert_comments(*, alert: Alert) -> QuerySet[AlertComment]:
    return alert.comments.select_related("author").order_by("created_at", "id")


def alert_events_since(
    *, user: Any, since_id: int | None = None, since_at: dt.datetime | None = None, limit: int = CATCH_UP_LIMIT
) -> list[LiveAlertEvent]:
    """Pushed events the user may see after an event id or a time, oldest first, for a reconnecting socket."""
    if since_id is None and since_at is None:
        return []
    events = AlertEvent.objects.visible_to(user).filter(pushed=True)
    events = events.filter(pk__gt=since_id) if since_id is not None else events.filter(at__gt=since_at)
    rows = list(events.select_related("alert__hostel", "alert__room").order_by("-id")[:limit])
    rows.reverse()
    return [alert_live_event(alert=row.alert, event=row) for row in rows]


def last_event_id_for_user(*, user: Any) -> int | None:
    """Where a fresh page starts: the newest pushed event it may see."""
    last = AlertEvent.objects.visible_to(user).filter(pushed=True).aggregate(last=Max("id"))["last"]
    return int(last) if last is not None else None


def parse_since(value: Any) -> tuple[int | None, dt.datetime | None]:
    """A resume cursor: an event id (int or digits) or an ISO 8601 time with a zone."""
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int):
        return value, None
    if isinstance(value, str):
        if value.isdigit():
            return int(value), None
        try:
            at = parse_datetime(value)
        except ValueError:
            return None, None
        if at is not None and at.tzinfo is not None:
            return None, at
    return None, None


def alert_assignable_users(*, alert: Alert) -> list[Any]:
    """People who may see the alert: the wardens of its hostel and the facility managers."""
    who = Q(groups__name=MANAGER_GROUP)
    if alert.hostel_id is not None:
        who |= Q(warden_hostels=alert.hostel_id)
    users = get_user_model().objects.filter(who, is_active=True).distinct()
    return list(users.order_by("username"))
