"""How long the alert event log keeps its lines."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from alerts.models import Alert, AlertEvent


def alert_events_prune(*, now: dt.datetime | None = None) -> int:
    """Delete event lines older than ALERT_EVENT_RETENTION_DAYS of alerts that are closed (resolved or
    suppressed); an open, acknowledged or snoozed alert keeps its whole trail. Returns lines deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.ALERT_EVENT_RETENTION_DAYS)
    deleted, _ = (
        AlertEvent.objects.filter(at__lt=cutoff, recorded_at__lt=cutoff)
        .exclude(alert__status__in=Alert.ACTIVE)
        .delete()
    )
    return deleted
