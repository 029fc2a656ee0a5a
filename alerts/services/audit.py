"""Permission checks and the audit row (plus live push and webhooks) behind every change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied

from alerts.models import (
    Alert,
    AlertEvent,
)
from alerts.realtime import broadcast
from alerts.selectors import alert_live_event
from alerts.services.notifications import _queue_webhooks
from core.roles import Role
from customers.models import AuditEntry
from customers.services import audit_record
from meters.scoping import scope_for

WEBHOOK_ACTIONS = {
    AlertEvent.Action.RAISED,
    AlertEvent.Action.ESCALATED,
    AlertEvent.Action.WORSENED,
    AlertEvent.Action.ACKNOWLEDGED,
    AlertEvent.Action.RESOLVED,
}


def _may_act(*, user: Any, alert: Alert) -> None:
    """Wardens act on alerts of their hostels, managers and admins on all."""
    scope = scope_for(user)
    if scope.role is Role.NONE:
        raise PermissionDenied("You have no Wattwatch role.")
    if not scope.everything and alert.hostel_id not in scope.hostel_ids:
        raise PermissionDenied("This alert is not in one of your hostels.")


def _record(
    *,
    alert: Alert,
    action: str,
    actor: Any,
    at: dt.datetime,
    from_status: str,
    detail: dict[str, Any] | None = None,
    pushed: bool = True,
) -> AlertEvent:
    """Write the audit row and, unless the alert is silenced, push it after commit."""
    event = AlertEvent.objects.create(
        alert=alert,
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        at=at,
        from_status=from_status,
        to_status=alert.status,
        detail=detail or {},
        pushed=pushed,
    )
    if event.actor is not None:
        audit_record(
            actor=event.actor,
            action=AuditEntry.Action.ALERT,
            target=f"alert {alert.pk}: {alert.title}",
            detail={"action": action, "from": from_status, "to": alert.status, **(detail or {})},
        )
    if pushed:
        broadcast(alert_live_event(alert=alert, event=event))
        if action in WEBHOOK_ACTIONS:
            _queue_webhooks(alert=alert, event=event)
    return event
