"""The lifecycle transitions people make: acknowledge, resolve, snooze, assign, feedback, comment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from alerts.models import (
    Alert,
    AlertComment,
    AlertEvent,
)
from alerts.services.audit import _may_act, _record
from core.roles import Role
from meters.scoping import scope_for


class AlertTransitionError(Exception):
    """The alert is not in a state that allows this change."""


def _transition(
    *,
    alert: Alert,
    user: Any,
    action: str,
    allowed_from: Iterable[str],
    change: Callable[[Alert, dt.datetime], dict[str, Any]],
    at: dt.datetime | None,
) -> Alert:
    _may_act(user=user, alert=alert)
    at = at or timezone.now()
    with transaction.atomic():
        locked = Alert.objects.select_for_update(of=("self",)).select_related("hostel", "room").get(pk=alert.pk)
        if locked.status not in allowed_from:
            raise AlertTransitionError(f"A {locked.get_status_display().lower()} alert cannot be {action}.")
        before = locked.status
        detail = change(locked, at)
        locked.save()
        _record(alert=locked, action=action, actor=user, at=at, from_status=before, detail=detail)
    return locked


def alert_acknowledge(*, alert: Alert, user: Any, at: dt.datetime | None = None) -> Alert:
    """Someone has seen it and is handling it: stops escalation."""

    def change(row: Alert, now: dt.datetime) -> dict[str, Any]:
        row.status = Alert.Status.ACKNOWLEDGED
        row.acknowledged_at = now
        row.acknowledged_by = user
        row.snoozed_until = None
        return {}

    return _transition(
        alert=alert,
        user=user,
        action=AlertEvent.Action.ACKNOWLEDGED,
        allowed_from=(Alert.Status.OPEN, Alert.Status.SNOOZED),
        change=change,
        at=at,
    )


def alert_resolve(*, alert: Alert, user: Any, note: str = "", at: dt.datetime | None = None) -> Alert:
    """The problem is gone (or was never one)."""

    def change(row: Alert, now: dt.datetime) -> dict[str, Any]:
        row.status = Alert.Status.RESOLVED
        row.resolved_at = now
        row.resolved_by = user
        row.snoozed_until = None
        return {"note": note} if note else {}

    return _transition(
        alert=alert,
        user=user,
        action=AlertEvent.Action.RESOLVED,
        allowed_from=(*Alert.ACTIVE, Alert.Status.SUPPRESSED),
        change=change,
        at=at,
    )


MAX_SNOOZE = dt.timedelta(days=7)  # as the API's `minutes`: a snoozed alert must come back


def alert_snooze(*, alert: Alert, user: Any, until: dt.datetime, at: dt.datetime | None = None) -> Alert:
    """Hide it until a time; it comes back open then if not resolved."""
    now = at or timezone.now()
    if until <= now:
        raise AlertTransitionError("Snooze until a time in the future.")
    if until > now + MAX_SNOOZE:
        raise AlertTransitionError(f"Snooze for at most {MAX_SNOOZE.days} days.")

    def change(row: Alert, when: dt.datetime) -> dict[str, Any]:
        row.status = Alert.Status.SNOOZED
        row.snoozed_until = until
        return {"until": until.isoformat()}

    return _transition(
        alert=alert,
        user=user,
        action=AlertEvent.Action.SNOOZED,
        allowed_from=(Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED),
        change=change,
        at=now,
    )


def not_assignable(name: str) -> str:
    """The one answer for "no such person" and "cannot see this alert", so names cannot be listed."""
    return f"No one named {name[:150]!r} can be assigned this alert."


def alert_assign(*, alert: Alert, user: Any, assignee: Any | None, at: dt.datetime | None = None) -> Alert:
    """Give it to one person who may see it (or to nobody)."""
    if assignee is not None:
        scope = scope_for(assignee)
        if scope.role is Role.NONE or not (scope.everything or alert.hostel_id in scope.hostel_ids):
            raise AlertTransitionError(not_assignable(assignee.get_username()))

    def change(row: Alert, now: dt.datetime) -> dict[str, Any]:
        row.assigned_to = assignee
        return {"assignee": assignee.get_username() if assignee is not None else None}

    return _transition(
        alert=alert,
        user=user,
        action=AlertEvent.Action.ASSIGNED,
        allowed_from=(*Alert.ACTIVE, Alert.Status.SUPPRESSED),
        change=change,
        at=at,
    )


FALSE_ALARM_NOTE = "Marked a false alarm."


def alert_feedback(*, alert: Alert, user: Any, true_alarm: bool, at: dt.datetime | None = None) -> Alert:
    """True or false alarm: the detector reads this back when it retrains.

    A false alarm needs no one's attention: it is also resolved, by the same person at the same moment
    (a second audit row, so the live badge and webhooks see the resolution). A true alarm stays as it is.
    """
    at = at or timezone.now()

    def change(row: Alert, now: dt.datetime) -> dict[str, Any]:
        row.is_true_alarm = true_alarm
        row.feedback_by = user
        row.feedback_at = now
        return {"true_alarm": true_alarm}

    with transaction.atomic():
        alert = _transition(
            alert=alert,
            user=user,
            action=AlertEvent.Action.FEEDBACK,
            allowed_from=[choice for choice, _ in Alert.Status.choices],
            change=change,
            at=at,
        )
        if not true_alarm and alert.status != Alert.Status.RESOLVED:
            alert = alert_resolve(alert=alert, user=user, note=FALSE_ALARM_NOTE, at=at)
    return alert


def alert_comment(*, alert: Alert, user: Any, body: str, at: dt.datetime | None = None) -> AlertComment:
    """Add a note to the alert's conversation."""
    body = body.strip()
    if not body:
        raise AlertTransitionError("A comment cannot be empty.")
    _may_act(user=user, alert=alert)
    at = at or timezone.now()
    with transaction.atomic():
        locked = Alert.objects.select_for_update(of=("self",)).select_related("hostel", "room").get(pk=alert.pk)
        comment = AlertComment.objects.create(alert=locked, author=user, body=body, created_at=at)
        _record(
            alert=locked,
            action=AlertEvent.Action.COMMENTED,
            actor=user,
            at=at,
            from_status=locked.status,
            detail={"comment_id": comment.pk, "excerpt": body[:140]},
        )
    return comment
