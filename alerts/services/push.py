"""Web Push: the devices a person allowed, and the encrypted messages sent to them (pywebpush, VAPID).

The payload is encrypted for the device (aes128gcm, RFC 8291) and signed with this installation's VAPID
key (RFC 8292); the browser's push service wakes the service worker (static/wattwatch/sw.js), which shows
the notification even with every tab closed. A push service answering 404 or 410 says the subscription
is gone for good: it is removed.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from pywebpush import WebPushException, webpush

from alerts.models import Alert, AlertEvent, PushDelivery, PushSubscription

logger = logging.getLogger(__name__)

GONE = (404, 410)


class PushFailed(Exception):
    """A push service answered with an error (not 404/410) or could not be reached; Celery retries."""


class SubscriptionGone(Exception):
    """The push service says this subscription no longer exists (404 or 410); it has been removed."""

    def __init__(self, code: int) -> None:
        super().__init__(f"HTTP {code}: the subscription has expired or was removed")
        self.code = code


def push_subscription_save(*, user: Any, subscription: dict[str, Any], user_agent: str = "") -> PushSubscription:
    """Keep a browser's PushSubscription (its JSON: endpoint and keys p256dh and auth) for `user`.

    The endpoint is where this server will POST: it must be https (http only with WEBPUSH_ALLOW_HTTP).
    A device that signs in as someone else moves to them.
    """
    if not isinstance(subscription, dict):
        raise ValidationError("The subscription must be a JSON object with endpoint and keys.")
    endpoint = subscription.get("endpoint")
    keys = subscription.get("keys")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > 1000:
        raise ValidationError({"endpoint": "Give the push service's endpoint URL (at most 1000 characters)."})
    scheme = urlsplit(endpoint).scheme
    allowed = ("https", "http") if settings.WEBPUSH_ALLOW_HTTP else ("https",)
    if scheme not in allowed or not urlsplit(endpoint).hostname:
        raise ValidationError({"endpoint": f"The endpoint must be an {' or '.join(allowed)} URL."})
    if not isinstance(keys, dict) or not all(isinstance(keys.get(name), str) for name in ("p256dh", "auth")):
        raise ValidationError({"keys": "Give keys.p256dh and keys.auth (base64url strings) from the browser."})
    p256dh, auth = keys["p256dh"], keys["auth"]
    if not 80 <= len(p256dh) <= 100 or not 16 <= len(auth) <= 32:
        raise ValidationError({"keys": "keys.p256dh or keys.auth has the wrong length for a P-256 key and secret."})
    saved, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]},
    )
    return saved


def push_subscription_delete(*, user: Any, endpoint: str) -> int:
    """Forget one of the user's devices (they turned notifications off there); return how many were removed."""
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return int(deleted)


def alert_push_payload(*, alert: Alert, event: AlertEvent) -> dict[str, Any]:
    """What the service worker shows: a title, a line of text, the alert's page, and a tag so repeats replace."""
    place = " · ".join(part for part in (alert.hostel and alert.hostel.name, alert.room and alert.room.number) if part)
    verb = AlertEvent.Action(event.action).label if event.action in AlertEvent.Action.values else event.action
    return {
        "title": f"{alert.get_severity_display()}: {alert.title}"[:120],
        "body": " — ".join(part for part in (place, alert.explanation) if part)[:300],
        "url": f"/alerts/{alert.pk}/",
        "tag": f"alert-{alert.pk}",
        "alert_id": alert.pk,
        "severity": alert.severity,
        "event": verb,
    }


def webpush_send(*, subscription: PushSubscription, payload: dict[str, Any], timeout: float = 10.0) -> int:
    """Encrypt and POST one message to a device's push service; return the HTTP status.

    Raises SubscriptionGone (after removing the subscription) on 404/410, PushFailed on anything else.
    """
    try:
        response = webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(payload, separators=(",", ":")),
            vapid_private_key=str(settings.VAPID_PRIVATE_KEY_FILE),
            vapid_claims={"sub": settings.VAPID_SUBJECT},  # a fresh dict: pywebpush adds aud and exp to it
            ttl=settings.WEBPUSH_TTL_SECONDS,
            timeout=timeout,
        )
    except WebPushException as error:
        code = error.response.status_code if error.response is not None else None
        if code in GONE:
            endpoint = subscription.endpoint
            subscription.delete()
            logger.info("push subscription %s removed: the push service answered %s", endpoint[:80], code)
            raise SubscriptionGone(code) from None
        raise PushFailed(f"HTTP {code}: {error.message}"[:1000] if code else str(error)[:1000]) from None
    except (requests.RequestException, OSError) as error:
        raise PushFailed(f"{type(error).__name__}: {error}"[:1000]) from None
    PushSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=timezone.now())
    return int(response.status_code)


def push_delivery_send(*, delivery_id: int, timeout: float = 10.0) -> str:
    """Push one alert event to one device, once; a gone device is recorded and removed, not retried."""
    failure: PushFailed | None = None
    with transaction.atomic():
        delivery = (
            PushDelivery.objects.select_for_update(of=("self",))
            .select_related("alert__hostel", "alert__room", "event", "subscription")
            .get(pk=delivery_id)
        )
        if delivery.status != PushDelivery.Status.PENDING:
            return f"already {delivery.status}"
        if delivery.subscription is None:
            delivery.status = PushDelivery.Status.FAILED
            delivery.last_error = "the device's subscription was removed before this was sent"
            delivery.save(update_fields=["status", "last_error"])
            return "no subscription"
        delivery.attempts += 1
        try:
            delivery.response_code = webpush_send(
                subscription=delivery.subscription,
                payload=alert_push_payload(alert=delivery.alert, event=delivery.event),
                timeout=timeout,
            )
        except SubscriptionGone as gone:
            delivery.subscription = None  # deleted; the row keeps the endpoint it was for
            delivery.status = PushDelivery.Status.FAILED
            delivery.last_error = str(gone)
            delivery.response_code = gone.code
            delivery.save(update_fields=["attempts", "status", "last_error", "response_code", "subscription"])
            return "subscription gone"
        except PushFailed as failed:
            # Recorded, then raised outside the transaction so the record stays; the task retries.
            delivery.last_error = str(failed)
            delivery.save(update_fields=["attempts", "last_error"])
            failure = failed
        else:
            delivery.status = PushDelivery.Status.SENT
            delivery.sent_at = timezone.now()
            delivery.save(update_fields=["attempts", "status", "sent_at", "response_code"])
    if failure is not None:
        raise failure
    logger.info("push %s delivered (HTTP %s)", delivery.key, delivery.response_code)
    return "sent"
