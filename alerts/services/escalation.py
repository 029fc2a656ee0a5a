"""Time-driven changes run by beat: escalation to facility managers and the end of snoozes."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from alerts.models import (
    Alert,
    AlertEvent,
)
from alerts.services.audit import _record
from alerts.services.notifications import _managers, _notify_people
from alerts.services.policies import escalation_minutes


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
            alert = Alert.objects.select_for_update(of=("self",)).select_related("hostel", "room").get(pk=alert_id)
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
            _notify_people(alert=alert, event=event, people=_managers(), escalation=True)
            escalated += 1
    return escalated


def alerts_unsnooze_due(*, now: dt.datetime | None = None) -> int:
    """Reopen alerts whose snooze has ended; return how many."""
    now = now or timezone.now()
    due = list(Alert.objects.filter(status=Alert.Status.SNOOZED, snoozed_until__lte=now).values_list("pk", flat=True))
    reopened = 0
    for alert_id in due:
        with transaction.atomic():
            alert = Alert.objects.select_for_update(of=("self",)).select_related("hostel", "room").get(pk=alert_id)
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
