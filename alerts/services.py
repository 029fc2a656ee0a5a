"""Writes for alerts: raising, the lifecycle, escalation, suppression and the notifications they cause.

Every change checks who may make it, writes an audit row, and pushes a typed event after commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from alerts.models import (
    SEVERITY_RANK,
    Alert,
    AlertComment,
    AlertEvent,
    AlertKind,
    EmailDelivery,
    EscalationPolicy,
    NotificationRule,
    SeverityRule,
    SuppressionWindow,
    WebhookDelivery,
)
from alerts.realtime import broadcast
from alerts.selectors import alert_live_event
from customers.roles import MANAGER_GROUP, Role, scope_for
from meters.models import Hostel, Meter, Room

logger = logging.getLogger(__name__)

# Used when an admin has configured no SeverityRule / EscalationPolicy rows.
DEFAULT_KIND_SEVERITY = {
    AlertKind.ANOMALY: "low",
    AlertKind.STALE_METER: "low",
    AlertKind.MODEL_UNFIT: "low",
    AlertKind.MAIN_IMBALANCE: "medium",
    AlertKind.TRANSFORMER_CAPACITY: "high",
    AlertKind.MANUAL: "medium",
}
DEFAULT_SCORE_SEVERITY = [(0.95, "critical"), (0.8, "high"), (0.6, "medium")]
DEFAULT_COST_SEVERITY = [(Decimal(100), "critical"), (Decimal(20), "high"), (Decimal(5), "medium")]
DEFAULT_ESCALATION_MINUTES = {"critical": 5, "high": 15, "medium": 60, "low": 240}
WEBHOOK_ACTIONS = {
    AlertEvent.Action.RAISED,
    AlertEvent.Action.ESCALATED,
    AlertEvent.Action.ACKNOWLEDGED,
    AlertEvent.Action.RESOLVED,
}
SIGNATURE_HEADER = "X-Wattwatch-Signature"
TIMESTAMP_HEADER = "X-Wattwatch-Timestamp"
DELIVERY_HEADER = "X-Wattwatch-Delivery"


class AlertTransitionError(Exception):
    """The alert is not in a state that allows this change."""


class WebhookFailed(Exception):
    """A webhook answered with an error or could not be reached; Celery retries with backoff."""


# --- severity and policies -------------------------------------------------------------------


def _max_severity(*severities: str) -> str:
    return max(severities, key=lambda value: SEVERITY_RANK[value])


def severity_for(*, kind: str, score: float | None, excess_cost: Decimal | float | None) -> str:
    """Severity from kind, detector score and excess cost: configured rules, or the defaults."""
    cost = Decimal(str(excess_cost)) if excess_cost is not None else None
    severity = DEFAULT_KIND_SEVERITY.get(AlertKind(kind), "low")
    rules = list(SeverityRule.objects.filter(Q(kind="") | Q(kind=kind)))
    if rules:
        for rule in rules:
            by_score = rule.min_score is not None and score is not None and score >= rule.min_score
            by_cost = rule.min_excess_cost is not None and cost is not None and cost >= rule.min_excess_cost
            if by_score or by_cost:
                severity = _max_severity(severity, rule.severity)
        return severity
    for threshold, level in DEFAULT_SCORE_SEVERITY:
        if score is not None and score >= threshold:
            severity = _max_severity(severity, level)
            break
    for cost_threshold, level in DEFAULT_COST_SEVERITY:
        if cost is not None and cost >= cost_threshold:
            severity = _max_severity(severity, level)
            break
    return severity


def escalation_minutes(*, severity: str) -> int:
    minutes = EscalationPolicy.objects.filter(severity=severity).values_list("minutes", flat=True).first()
    return int(minutes) if minutes is not None else DEFAULT_ESCALATION_MINUTES[severity]


def suppression_covering(*, hostel_id: int | None, room_id: int | None, at: dt.datetime) -> SuppressionWindow | None:
    """The maintenance or vacation window that silences alerts of this hostel or room at this time."""
    if hostel_id is None:
        return None
    return (
        SuppressionWindow.objects.filter(hostel_id=hostel_id, starts_at__lte=at, ends_at__gt=at)
        .filter(Q(room__isnull=True) | Q(room_id=room_id))
        .order_by("starts_at")
        .first()
    )


# --- permissions and audit ---------------------------------------------------------------------


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
    if pushed:
        broadcast(alert_live_event(alert=alert, event=event))
        if action in WEBHOOK_ACTIONS:
            _queue_webhooks(alert=alert, event=event)
    return event


# --- raising -----------------------------------------------------------------------------------


def alert_raise(
    *,
    kind: str,
    title: str,
    explanation: str = "",
    hostel: Hostel | None = None,
    room: Room | None = None,
    meter: Meter | None = None,
    score: float | None = None,
    excess_cost: Decimal | float | None = None,
    dedupe_key: str | None = None,
    source_payload: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
    actor: Any = None,
) -> Alert:
    """Open an alert, or update the active one with the same dedupe key; record it silently when suppressed."""
    at = at or timezone.now()
    if room is None and meter is not None and meter.room_id:
        room = meter.room
    if hostel is None:
        hostel = room.hostel if room is not None else (meter.hostel if meter is not None else None)
    key = dedupe_key or f"{kind}:{hostel.pk if hostel else '-'}:{room.pk if room else '-'}:{meter.pk if meter else '-'}"
    severity = severity_for(kind=kind, score=score, excess_cost=excess_cost)
    cost = Decimal(str(excess_cost)).quantize(Decimal("0.01")) if excess_cost is not None else None
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _raise_locked(
                    kind=kind,
                    title=title,
                    explanation=explanation,
                    hostel=hostel,
                    room=room,
                    meter=meter,
                    score=score,
                    cost=cost,
                    key=key,
                    severity=severity,
                    payload=source_payload or {},
                    at=at,
                    actor=actor,
                )
        except IntegrityError:
            # Two workers raised the same new problem at once: the second one becomes a repeat.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _raise_locked(
    *,
    kind: str,
    title: str,
    explanation: str,
    hostel: Hostel | None,
    room: Room | None,
    meter: Meter | None,
    score: float | None,
    cost: Decimal | None,
    key: str,
    severity: str,
    payload: dict[str, Any],
    at: dt.datetime,
    actor: Any,
) -> Alert:
    window = suppression_covering(hostel_id=hostel.pk if hostel else None, room_id=room.pk if room else None, at=at)
    existing = Alert.objects.select_for_update().filter(dedupe_key=key, status__in=Alert.ACTIVE).first()
    if existing is None and window is not None:
        existing = (
            Alert.objects.select_for_update()
            .filter(dedupe_key=key, status=Alert.Status.SUPPRESSED, last_seen_at__gte=window.starts_at)
            .order_by("-id")
            .first()
        )
    if existing is not None:
        return _repeat(
            alert=existing,
            title=title,
            explanation=explanation,
            score=score,
            cost=cost,
            severity=severity,
            payload=payload,
            at=at,
            actor=actor,
            silenced=window is not None,
        )
    status = Alert.Status.SUPPRESSED if window is not None else Alert.Status.OPEN
    alert = Alert.objects.create(
        kind=kind,
        title=title,
        explanation=explanation,
        severity=severity,
        score=score,
        excess_cost=cost,
        hostel=hostel,
        room=room,
        meter=meter,
        dedupe_key=key,
        status=status,
        first_seen_at=at,
        last_seen_at=at,
        opened_at=at,
        escalation_due_at=None if window else at + dt.timedelta(minutes=escalation_minutes(severity=severity)),
        source_payload=payload,
    )
    if window is not None:
        _record(
            alert=alert,
            action=AlertEvent.Action.SUPPRESSED,
            actor=actor,
            at=at,
            from_status="",
            detail={"window_id": window.pk, "reason": window.reason},
            pushed=False,
        )
        return alert
    event = _record(alert=alert, action=AlertEvent.Action.RAISED, actor=actor, at=at, from_status="")
    _queue_emails(alert=alert, event=event, people=_first_responders(alert=alert))
    return alert


def _repeat(
    *,
    alert: Alert,
    title: str,
    explanation: str,
    score: float | None,
    cost: Decimal | None,
    severity: str,
    payload: dict[str, Any],
    at: dt.datetime,
    actor: Any,
    silenced: bool,
) -> Alert:
    before = alert.severity
    alert.occurrences += 1
    alert.last_seen_at = max(alert.last_seen_at, at)
    alert.title = title
    alert.explanation = explanation or alert.explanation
    alert.severity = _max_severity(alert.severity, severity)
    if score is not None:
        alert.score = max(alert.score or 0.0, score)
    if cost is not None:
        alert.excess_cost = max(alert.excess_cost or Decimal(0), cost)
    alert.source_payload = {**alert.source_payload, **payload}
    if alert.severity != before and alert.status == Alert.Status.OPEN and alert.escalation_level == 0:
        sooner = alert.opened_at + dt.timedelta(minutes=escalation_minutes(severity=alert.severity))
        alert.escalation_due_at = min(alert.escalation_due_at or sooner, sooner)
    alert.save()
    _record(
        alert=alert,
        action=AlertEvent.Action.REPEATED,
        actor=actor,
        at=at,
        from_status=alert.status,
        detail={"occurrences": alert.occurrences, "severity_from": before, "severity_to": alert.severity},
        pushed=not silenced and alert.status != Alert.Status.SUPPRESSED,
    )
    return alert


# --- lifecycle ---------------------------------------------------------------------------------


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
        locked = Alert.objects.select_for_update().select_related("hostel", "room").get(pk=alert.pk)
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


def alert_snooze(*, alert: Alert, user: Any, until: dt.datetime, at: dt.datetime | None = None) -> Alert:
    """Hide it until a time; it comes back open then if not resolved."""
    now = at or timezone.now()
    if until <= now:
        raise AlertTransitionError("Snooze until a time in the future.")

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


def alert_assign(*, alert: Alert, user: Any, assignee: Any | None, at: dt.datetime | None = None) -> Alert:
    """Give it to one person who may see it (or to nobody)."""
    if assignee is not None:
        scope = scope_for(assignee)
        if scope.role is Role.NONE or not (scope.everything or alert.hostel_id in scope.hostel_ids):
            raise AlertTransitionError(f"{assignee.get_username()} cannot see this alert.")

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


def alert_feedback(*, alert: Alert, user: Any, true_alarm: bool, at: dt.datetime | None = None) -> Alert:
    """True or false alarm: the detector reads this back when it retrains."""

    def change(row: Alert, now: dt.datetime) -> dict[str, Any]:
        row.is_true_alarm = true_alarm
        row.feedback_by = user
        row.feedback_at = now
        return {"true_alarm": true_alarm}

    return _transition(
        alert=alert,
        user=user,
        action=AlertEvent.Action.FEEDBACK,
        allowed_from=[choice for choice, _ in Alert.Status.choices],
        change=change,
        at=at,
    )


def alert_comment(*, alert: Alert, user: Any, body: str, at: dt.datetime | None = None) -> AlertComment:
    """Add a note to the alert's conversation."""
    body = body.strip()
    if not body:
        raise AlertTransitionError("A comment cannot be empty.")
    _may_act(user=user, alert=alert)
    at = at or timezone.now()
    with transaction.atomic():
        locked = Alert.objects.select_for_update().select_related("hostel", "room").get(pk=alert.pk)
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


# --- time-driven changes (beat) ----------------------------------------------------------------


def alerts_escalate_due(*, now: dt.datetime | None = None) -> int:
    """Tell facility managers about alerts nobody acknowledged in time; return how many escalated."""
    now = now or timezone.now()
    due = list(
        Alert.objects.filter(status=Alert.Status.OPEN, escalation_level=0, escalation_due_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    escalated = 0
    for alert_id in due:
        with transaction.atomic():
            alert = Alert.objects.select_for_update().select_related("hostel", "room").get(pk=alert_id)
            # Re-checked under the lock: someone may have acknowledged it meanwhile.
            if alert.status != Alert.Status.OPEN or alert.escalation_level != 0:
                continue
            alert.escalation_level = 1
            alert.escalated_at = now
            alert.save(update_fields=["escalation_level", "escalated_at"])
            event = _record(
                alert=alert,
                action=AlertEvent.Action.ESCALATED,
                actor=None,
                at=now,
                from_status=alert.status,
                detail={"level": 1, "to": "facility managers"},
            )
            _queue_emails(alert=alert, event=event, people=_managers())
            escalated += 1
    return escalated


def alerts_unsnooze_due(*, now: dt.datetime | None = None) -> int:
    """Reopen alerts whose snooze has ended; return how many."""
    now = now or timezone.now()
    due = list(Alert.objects.filter(status=Alert.Status.SNOOZED, snoozed_until__lte=now).values_list("pk", flat=True))
    reopened = 0
    for alert_id in due:
        with transaction.atomic():
            alert = Alert.objects.select_for_update().select_related("hostel", "room").get(pk=alert_id)
            if alert.status != Alert.Status.SNOOZED:
                continue
            alert.status = Alert.Status.OPEN
            alert.snoozed_until = None
            if alert.escalation_level == 0:
                alert.escalation_due_at = now + dt.timedelta(minutes=escalation_minutes(severity=alert.severity))
            alert.save()
            _record(
                alert=alert, action=AlertEvent.Action.UNSNOOZED, actor=None, at=now, from_status=Alert.Status.SNOOZED
            )
            reopened += 1
    return reopened


# --- routing and notifications -----------------------------------------------------------------


def _managers() -> list[Any]:
    users = get_user_model().objects.filter(is_active=True, groups__name=MANAGER_GROUP).distinct()
    return list(users.order_by("pk"))


def _first_responders(*, alert: Alert) -> list[Any]:
    """The hostel's wardens; facility managers when the alert has no hostel or the hostel no warden."""
    if alert.hostel_id is not None:
        wardens = list(alert.hostel.wardens.filter(is_active=True).order_by("pk")) if alert.hostel else []
        if wardens:
            return wardens
    return _managers()


def _email_allowed(*, user: Any, alert: Alert) -> bool:
    """The user's rule for this hostel wins over their rule for all hostels; no rule means every email."""
    rules = NotificationRule.objects.filter(user=user, active=True).filter(
        Q(hostel__isnull=True) | Q(hostel_id=alert.hostel_id)
    )
    rule = sorted(rules, key=lambda r: r.hostel_id is None)[0] if rules else None
    return rule is None or (rule.email and rule.allows(alert.severity))


def _queue_emails(*, alert: Alert, event: AlertEvent, people: list[Any]) -> None:
    from alerts.tasks import alert_email_send

    for person in people:
        if not person.email or not _email_allowed(user=person, alert=alert):
            continue
        delivery, created = EmailDelivery.objects.get_or_create(
            key=f"email:{event.pk}:{person.pk}",
            defaults={"alert": alert, "event": event, "recipient": person, "address": person.email},
        )
        if created:
            transaction.on_commit(partial(alert_email_send.delay, delivery.pk))


def webhook_payload(*, alert: Alert, event: AlertEvent) -> dict[str, Any]:
    return {
        "event": event.action,
        "event_id": event.pk,
        "at": event.at.isoformat(),
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "title": alert.title,
            "explanation": alert.explanation,
            "severity": alert.severity,
            "status": alert.status,
            "hostel_id": alert.hostel_id,
            "room_id": alert.room_id,
            "meter_id": alert.meter_id,
            "occurrences": alert.occurrences,
            "escalation_level": alert.escalation_level,
            "source": alert.source_payload,
        },
    }


def _queue_webhooks(*, alert: Alert, event: AlertEvent) -> None:
    from alerts.tasks import webhook_deliver

    rules = NotificationRule.objects.filter(user__isnull=True, active=True).exclude(webhook_url="")
    rules = rules.filter(Q(hostel__isnull=True) | Q(hostel_id=alert.hostel_id))
    for rule in rules:
        if not rule.allows(alert.severity):
            continue
        delivery, created = WebhookDelivery.objects.get_or_create(
            key=f"webhook:{event.pk}:{rule.pk}",
            defaults={
                "alert": alert,
                "event": event,
                "rule": rule,
                "url": rule.webhook_url,
                "payload": webhook_payload(alert=alert, event=event),
            },
        )
        if created:
            transaction.on_commit(partial(webhook_deliver.delay, delivery.pk))


def sign(*, secret: str, body: bytes) -> str:
    """The signature header value: HMAC-SHA256 of the raw body with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def email_delivery_send(*, delivery_id: int) -> str:
    """Send one alert email (HTML and text); a delivery already sent is not sent again."""
    with transaction.atomic():
        delivery = (
            EmailDelivery.objects.select_for_update()
            .select_related("alert__hostel", "alert__room", "event", "recipient")
            .get(pk=delivery_id)
        )
        if delivery.status == EmailDelivery.Status.SENT:
            return "already sent"
        alert = delivery.alert
        context = {
            "alert": alert,
            "event": delivery.event,
            "recipient": delivery.recipient,
            "escalated": delivery.event.action == AlertEvent.Action.ESCALATED,
            "url": settings.WATTWATCH_BASE_URL.rstrip("/") + f"/alerts/{alert.pk}/",
        }
        subject = " ".join(render_to_string("alerts/email/alert_subject.txt", context).split())
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("alerts/email/alert.txt", context),
            to=[delivery.address],
        )
        message.attach_alternative(render_to_string("alerts/email/alert.html", context), "text/html")
        delivery.attempts += 1
        message.send()
        delivery.status = EmailDelivery.Status.SENT
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["attempts", "status", "sent_at"])
    return "sent"


def webhook_delivery_send(*, delivery_id: int, timeout: float = 10.0) -> str:
    """POST one signed webhook; record the outcome; raise WebhookFailed so the task retries."""
    delivery = WebhookDelivery.objects.select_related("rule").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.SENT:
        return "already sent"
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 - admins configure http(s) URLs only (URLField)
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Wattwatch-Webhook/1",
            SIGNATURE_HEADER: sign(secret=delivery.rule.webhook_secret, body=body),
            TIMESTAMP_HEADER: str(int(time.time())),
            DELIVERY_HEADER: delivery.key,
        },
    )
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            delivery.response_code = response.status
    except urllib.error.HTTPError as error:
        delivery.response_code = error.code
        delivery.last_error = f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        delivery.response_code = None
        delivery.last_error = f"{type(error).__name__}: {error}"[:1000]
    if delivery.response_code is not None and 200 <= delivery.response_code < 300:
        delivery.status = WebhookDelivery.Status.SENT
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["attempts", "response_code", "status", "sent_at"])
        return "sent"
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["attempts", "response_code", "last_error", "status"])
    raise WebhookFailed(delivery.last_error)
