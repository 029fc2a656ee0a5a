"""Writes for system health, meter health alerts, hostel targets and the weekly digest."""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from alerts.realtime import HeartbeatEvent, broadcast
from analytics.digest import digest_render, digest_timezone
from analytics.models import DigestSubscription, HostelTarget, MeterHealthScore
from analytics.selectors.health import HEARTBEAT_KEY
from analytics.selectors.meter_health import MeterHealth, meter_health_of
from core.roles import Role, role_of
from meters.models import Hostel, Meter

__all__ = [
    "HEARTBEAT_KEY",
    "digest_send",
    "digest_unsubscribe",
    "digests_send_due",
    "heartbeat_record",
    "hostel_target_set",
    "meter_health_alerts_raise",
    "meter_health_store",
]


def heartbeat_record(*, worker: str | None = None) -> HeartbeatEvent:
    """Note that a worker is alive now and tell every open page."""
    at = timezone.now().isoformat()
    name = worker or socket.gethostname()
    cache.set(HEARTBEAT_KEY, {"at": at, "worker": name}, timeout=None)
    event: HeartbeatEvent = {"type": "system.heartbeat", "at": at, "worker": name}
    broadcast(event)
    return event


def meter_health_store(*, now: dt.datetime | None = None) -> list[MeterHealth]:
    """Score every meter in service and store the scores the pages and the API read (one row a meter, upserted)."""
    now = now or timezone.now()
    scores = meter_health_of(meters=list(Meter.objects.filter(removed_at__isnull=True)), now=now)
    fields = ["score", "communication", "quality", "agreement", "trend", "trend_points", "recommendation"]
    MeterHealthScore.objects.bulk_create(
        [
            MeterHealthScore(meter_id=h.meter_id, computed_at=now, **{field: getattr(h, field) for field in fields})
            for h in scores
        ],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["meter"],
        update_fields=[*fields, "computed_at"],
    )
    MeterHealthScore.objects.filter(meter__removed_at__isnull=False).delete()
    return scores


def meter_health_alerts_raise(*, now: dt.datetime | None = None) -> int:
    """Score and store every meter's health, and raise (or repeat) a low-severity alert for managers for every
    meter whose health is below the threshold."""
    from alerts.models import AlertKind
    from alerts.services import alert_raise

    raised = 0
    for health in meter_health_store(now=now):
        if health.score >= settings.METER_HEALTH_ALERT_BELOW:
            continue
        # No hostel on the alert: it goes to the facility managers, not the wardens (alerts route by hostel).
        alert_raise(
            kind=AlertKind.METER_HEALTH,
            title=f"Meter {health.serial}: health {health.score}/100",
            explanation=health.recommendation,
            dedupe_key=f"meter_health:{health.meter_id}",
            source_payload={
                "meter": health.serial,
                "score": health.score,
                "communication": health.communication,
                "quality": health.quality,
                "agreement": health.agreement,
                "trend": health.trend,
            },
            at=now,
        )
        raised += 1
    return raised


def hostel_target_set(*, hostel: Hostel, kwh_per_bed_day: float, actor: Any) -> HostelTarget:
    """A manager sets (or changes) a hostel's target in kWh per occupied bed and day."""
    if role_of(actor) not in (Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("Only facility managers set targets.")
    if not 0 < kwh_per_bed_day <= 500:
        raise ValidationError({"kwh_per_bed_day": "A target is more than 0 and at most 500 kWh per bed and day."})
    target, _ = HostelTarget.objects.update_or_create(
        hostel=hostel, defaults={"kwh_per_bed_day": kwh_per_bed_day, "set_by": actor}
    )
    return target


def digest_unsubscribe(*, user: Any) -> DigestSubscription:
    """Stop the weekly digest for this user."""
    subscription, _ = DigestSubscription.objects.update_or_create(user=user, defaults={"subscribed": False})
    return subscription


def digest_send(*, user: Any, now: dt.datetime | None = None) -> bool:
    """Email the user their weekly digest once per ISO week; False when unsubscribed, sent, or no address."""
    now = now or timezone.now()
    subscription, _ = DigestSubscription.objects.get_or_create(user=user)
    week = "{}-W{:02d}".format(*now.isocalendar()[:2])
    if not subscription.subscribed or subscription.last_sent_week == week or not user.email:
        return False
    subject, text, html = digest_render(user=user, now=now)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(html, "text/html")
    message.send()
    DigestSubscription.objects.filter(pk=subscription.pk).update(last_sent_week=week)
    return True


def digests_send_due(*, now: dt.datetime | None = None) -> int:
    """Send the digest to every user for whom it is now Monday at DIGEST_LOCAL_HOUR in their site's time zone."""
    now = now or timezone.now()
    sent = 0
    for user in get_user_model().objects.filter(is_active=True).exclude(email=""):
        local = now.astimezone(digest_timezone(user=user))
        if local.weekday() == 0 and local.hour == settings.DIGEST_LOCAL_HOUR:
            sent += digest_send(user=user, now=now)
    return sent
