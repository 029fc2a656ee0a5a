"""Celery adapters for alerts: load by id, call one service, return a short summary."""

from __future__ import annotations

import smtplib
from decimal import Decimal
from typing import Any

from celery import shared_task

from alerts.services import (
    WebhookFailed,
    alert_events_prune,
    alert_raise,
    alerts_escalate_due,
    alerts_unsnooze_due,
    deliveries_requeue_pending,
    email_delivery_send,
    webhook_delivery_send,
)
from alerts.services.history import history_summary_deliver as history_summary_deliver_service
from alerts.services.notifications import deliveries_send_held
from alerts.services.push import PushFailed, push_delivery_send
from alerts.services.summaries import daily_summaries_due
from alerts.services.summaries import daily_summary_deliver as daily_summary_deliver_service
from meters.models import Hostel, Meter, Room


@shared_task(name="alerts.tasks.alert_raise")
def alert_raise_task(
    *,
    kind: str,
    title: str,
    explanation: str = "",
    hostel_id: int | None = None,
    room_id: int | None = None,
    meter_id: int | None = None,
    score: float | None = None,
    excess_cost: str | None = None,
    dedupe_key: str | None = None,
    source_payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Raise (or repeat) an alert from plain values; a redelivery is a repeat of the same dedupe key."""
    alert = alert_raise(
        kind=kind,
        title=title,
        explanation=explanation,
        hostel=Hostel.objects.get(pk=hostel_id) if hostel_id else None,
        room=Room.objects.select_related("hostel").get(pk=room_id) if room_id else None,
        meter=Meter.objects.get(pk=meter_id) if meter_id else None,
        score=score,
        excess_cost=Decimal(excess_cost) if excess_cost is not None else None,
        dedupe_key=dedupe_key,
        source_payload=source_payload,
    )
    return {"alert_id": alert.pk, "status": alert.status, "occurrences": alert.occurrences}


@shared_task(
    name="alerts.tasks.alert_email_send",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=10,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=6,
)
def alert_email_send(delivery_id: int) -> str:
    """Send one alert email, once."""
    return email_delivery_send(delivery_id=delivery_id)


@shared_task(
    name="alerts.tasks.webhook_deliver",
    autoretry_for=(WebhookFailed,),
    retry_backoff=5,
    retry_backoff_max=15 * 60,
    retry_jitter=True,
    max_retries=8,
)
def webhook_deliver(delivery_id: int) -> str:
    """POST one signed webhook, once; retried with exponential backoff while the receiver fails."""
    return webhook_delivery_send(delivery_id=delivery_id)


@shared_task(
    name="alerts.tasks.history_summary_deliver",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=10,
    max_retries=6,
)
def history_summary_deliver(summary_id: int) -> dict[str, int]:
    """Email and webhook one history scan's summary, once per person and rule."""
    return history_summary_deliver_service(summary_id=summary_id)


@shared_task(name="alerts.tasks.alerts_escalate_due")
def alerts_escalate_due_task() -> int:
    """Escalate to facility managers the alerts not acknowledged in time."""
    return alerts_escalate_due()


@shared_task(name="alerts.tasks.alerts_unsnooze_due")
def alerts_unsnooze_due_task() -> int:
    """Reopen alerts whose snooze has ended."""
    return alerts_unsnooze_due()


@shared_task(name="alerts.tasks.deliveries_requeue_pending")
def deliveries_requeue_pending_task() -> int:
    """Enqueue again emails and webhooks left pending (the broker was down when they were queued)."""
    return deliveries_requeue_pending()


@shared_task(name="alerts.tasks.alert_events_prune", ignore_result=False)
def alert_events_prune_task() -> dict[str, int]:
    """Delete closed alerts' event lines older than ALERT_EVENT_RETENTION_DAYS."""
    return {"deleted": alert_events_prune()}


@shared_task(
    name="alerts.tasks.push_deliver",
    autoretry_for=(PushFailed,),
    retry_backoff=5,
    retry_backoff_max=15 * 60,
    retry_jitter=True,
    max_retries=6,
)
def push_deliver(delivery_id: int) -> str:
    """Web Push one alert event to one device, once; retried while the push service fails."""
    return push_delivery_send(delivery_id=delivery_id)


@shared_task(name="alerts.tasks.deliveries_send_held")
def deliveries_send_held_task() -> int:
    """Send the emails and pushes held for quiet hours that have ended."""
    return deliveries_send_held()


@shared_task(name="alerts.tasks.daily_summaries_due")
def daily_summaries_due_task() -> int:
    """Make the daily summaries whose time has come."""
    return daily_summaries_due()


@shared_task(
    name="alerts.tasks.daily_summary_deliver",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=10,
    max_retries=6,
)
def daily_summary_deliver(summary_id: int) -> dict[str, int]:
    """Email and push one person's daily summary, once each."""
    return daily_summary_deliver_service(summary_id=summary_id)
