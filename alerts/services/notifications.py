"""Who hears about an alert, and the emails, pushes and webhooks that tell them (sent by tasks).

Each person's own choices (alerts.models.notifications.NotificationPreference) filter what reaches them,
hold it through their quiet hours, or gather it into a daily summary.
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
from functools import partial
from typing import Any

from celery import signature
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from alerts.metrics import ALERT_DELIVERIES
from alerts.models import (
    Alert,
    AlertEvent,
    EmailDelivery,
    NotificationPreference,
    NotificationRule,
    PushDelivery,
    SummaryEntry,
    WebhookDelivery,
)
from alerts.services.chat import chat_message
from core.roles import MANAGER_GROUP

SIGNATURE_HEADER = "X-Wattwatch-Signature"
TIMESTAMP_HEADER = "X-Wattwatch-Timestamp"
DELIVERY_HEADER = "X-Wattwatch-Delivery"

logger = logging.getLogger(__name__)


class WebhookFailed(Exception):
    """A webhook answered with an error or could not be reached; Celery retries with backoff."""


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


EMAIL_TASK = "alerts.tasks.alert_email_send"
WEBHOOK_TASK = "alerts.tasks.webhook_deliver"
PUSH_TASK = "alerts.tasks.push_deliver"
SUMMARY_TASK = "alerts.tasks.history_summary_deliver"


def _enqueue(task: str, delivery_id: int) -> None:
    """Send a delivery task (by name: alerts.tasks imports these services) to the broker; if the broker
    is down the delivery stays pending and `deliveries_requeue_pending` (run by beat) sends it later.
    The alert itself is already stored."""
    try:
        signature(task, args=(delivery_id,)).delay()
    except Exception:
        logger.exception("could not enqueue %s for delivery %s; the pending sweep will retry", task, delivery_id)


DELIVERY_TASKS: tuple[tuple[Any, str], ...] = (
    (EmailDelivery, EMAIL_TASK),
    (WebhookDelivery, WEBHOOK_TASK),
    (PushDelivery, PUSH_TASK),
)


def deliveries_requeue_pending(*, older_than: dt.timedelta = dt.timedelta(minutes=5)) -> int:
    """Enqueue again the deliveries still pending after `older_than` (a lost enqueue or message).

    Safe to overlap with a running delivery: each send locks its row and skips what was sent. Deliveries
    held for quiet hours are `deliveries_send_held`'s.
    """
    cutoff = timezone.now() - older_than
    count = 0
    for model, task in DELIVERY_TASKS:
        pending = model.objects.filter(status=model.Status.PENDING, created_at__lte=cutoff, not_before__isnull=True)
        for delivery_id in pending.values_list("pk", flat=True)[:1000]:
            _enqueue(task, delivery_id)
            count += 1
    return count


def deliveries_send_held(*, now: dt.datetime | None = None) -> int:
    """Enqueue the deliveries held for someone's quiet hours that have now ended; return how many."""
    now = now or timezone.now()
    count = 0
    for model, task in DELIVERY_TASKS:
        due = list(
            model.objects.filter(status=model.Status.PENDING, not_before__lte=now).values_list("pk", flat=True)[:1000]
        )
        # Released: from now on the pending sweep re-sends them if this enqueue is lost.
        model.objects.filter(pk__in=due).update(not_before=None)
        for delivery_id in due:
            transaction.on_commit(partial(_enqueue, task, delivery_id))
            count += 1
    return count


def preferences_for(*, users: list[Any]) -> dict[int, tuple[NotificationPreference, set[int]]]:
    """Each user's saved choices and the hostels they picked (empty: all they may see); absent: the defaults."""
    found = NotificationPreference.objects.filter(user__in=[user.pk for user in users]).prefetch_related("hostels")
    return {pref.user_id: (pref, {hostel.pk for hostel in pref.hostels.all()}) for pref in found}


def _notify_people(*, alert: Alert, event: AlertEvent, people: list[Any], escalation: bool = False) -> None:
    """Email and push an alert event to each person, as each chose.

    A person's hostels, kinds and minimum severity filter what reaches them, their channels say how,
    quiet hours hold messages until they end (a critical alert passes if they allow it), and a daily
    summary gathers the events instead. An escalation reaches every facility manager at once on the
    channels they chose: the escalation policy, not a personal filter, decides it.
    """
    choices = preferences_for(users=people)
    now = timezone.now()
    for person in people:
        pref, hostel_ids = choices.get(person.pk, (None, set()))
        hold: dt.datetime | None = None
        if pref is not None and not escalation:
            if not pref.wants(
                kind=alert.kind, severity=alert.severity, hostel_id=alert.hostel_id, hostel_ids=hostel_ids
            ):
                continue
            if pref.daily_summary:
                SummaryEntry.objects.get_or_create(user=person, event=event, defaults={"alert": alert})
                continue
            if not (pref.critical_breaks_quiet and alert.severity == "critical"):
                hold = pref.quiet_until(max(event.at, now))
        if (pref is None or pref.email) and person.email and _email_allowed(user=person, alert=alert):
            delivery, created = EmailDelivery.objects.get_or_create(
                key=f"email:{event.pk}:{person.pk}",
                defaults={
                    "alert": alert,
                    "event": event,
                    "recipient": person,
                    "address": person.email,
                    "not_before": hold,
                },
            )
            if created and hold is None:
                transaction.on_commit(partial(_enqueue, EMAIL_TASK, delivery.pk))
        if pref is None or pref.push:
            for subscription in person.push_subscriptions.all():
                push, created = PushDelivery.objects.get_or_create(
                    key=f"push:{event.pk}:{subscription.pk}",
                    defaults={
                        "alert": alert,
                        "event": event,
                        "recipient": person,
                        "subscription": subscription,
                        "endpoint": subscription.endpoint,
                        "not_before": hold,
                    },
                )
                if created and hold is None:
                    transaction.on_commit(partial(_enqueue, PUSH_TASK, push.pk))


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
    rules = NotificationRule.objects.filter(user__isnull=True, active=True).exclude(webhook_url="")
    rules = rules.filter(Q(hostel__isnull=True) | Q(hostel_id=alert.hostel_id))
    for rule in rules:
        if not rule.allows(alert.severity):
            continue
        payload = (
            webhook_payload(alert=alert, event=event)
            if rule.webhook_format == NotificationRule.Format.GENERIC
            else alert_chat_message(style=rule.webhook_format, alert=alert, event=event)
        )
        delivery, created = WebhookDelivery.objects.get_or_create(
            key=f"webhook:{event.pk}:{rule.pk}",
            defaults={"alert": alert, "event": event, "rule": rule, "url": rule.webhook_url, "payload": payload},
        )
        if created:
            transaction.on_commit(partial(_enqueue, WEBHOOK_TASK, delivery.pk))


def alert_chat_message(*, style: str, alert: Alert, event: AlertEvent) -> dict[str, Any]:
    """The Slack or Teams message about an alert event: what happened, where, and a link to the alert."""
    facts = [("Severity", alert.get_severity_display()), ("Status", alert.get_status_display())]
    if alert.hostel is not None:
        facts.append(("Hostel", alert.hostel.name))
    if alert.room is not None:
        facts.append(("Room", alert.room.number))
    facts.append(("Kind", alert.get_kind_display()))
    verb = AlertEvent.Action(event.action).label if event.action in AlertEvent.Action.values else event.action
    return chat_message(
        style=style,
        title=f"Alert #{alert.pk} {verb.lower()}: {alert.title}",
        text=alert.explanation,
        url=settings.WATTWATCH_BASE_URL.rstrip("/") + f"/alerts/{alert.pk}/",
        facts=facts,
    )


def webhook_headers(*, rule: NotificationRule, body: bytes, key: str) -> dict[str, str]:
    """JSON headers; a generic webhook's are signed with its secret (Slack and Teams URLs are the secret)."""
    headers = {"Content-Type": "application/json", "User-Agent": "Wattwatch-Webhook/1", DELIVERY_HEADER: key}
    if rule.webhook_format == NotificationRule.Format.GENERIC:
        headers[SIGNATURE_HEADER] = sign(secret=rule.webhook_secret, body=body)
        headers[TIMESTAMP_HEADER] = str(int(time.time()))
    return headers


def sign(*, secret: str, body: bytes) -> str:
    """The signature header value: HMAC-SHA256 of the raw body with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def email_delivery_send(*, delivery_id: int) -> str:
    """Send one alert email (HTML and text); a delivery already sent is not sent again."""
    with transaction.atomic():
        delivery = (
            EmailDelivery.objects.select_for_update(of=("self",))
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
            "worsened": delivery.event.action == AlertEvent.Action.WORSENED,
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
    ALERT_DELIVERIES.labels(channel="email", outcome="sent").inc()
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
        headers=webhook_headers(rule=delivery.rule, body=body, key=delivery.key),
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
        ALERT_DELIVERIES.labels(channel="webhook", outcome="sent").inc()
        logger.info(
            "webhook %s delivered to %s (HTTP %s)", delivery.key, delivery.rule.webhook_format, delivery.response_code
        )
        return "sent"
    ALERT_DELIVERIES.labels(channel="webhook", outcome="failed").inc()
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["attempts", "response_code", "last_error", "status"])
    raise WebhookFailed(delivery.last_error)
