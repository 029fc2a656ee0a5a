"""Raising an alert: open, repeat (dedupe) or record silently inside a suppression window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts.models import (
    Alert,
    AlertEvent,
)
from alerts.services.audit import _record
from alerts.services.notifications import _first_responders, _queue_emails
from alerts.services.policies import _max_severity, escalation_minutes, severity_for, suppression_covering
from meters.models import Hostel, Meter, Room


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
    history: bool = False,
) -> Alert:
    """Open an alert, or update the active one with the same dedupe key; record it silently when suppressed.

    `history=True`: found by a scan of stored history, `at` being the event's own time. The alert is
    stored and listed (marked as found in history) but not pushed, emailed, sent to webhooks or
    escalated one by one: the scan sends one summary instead (alerts.services.history).
    """
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
                    history=history,
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
    history: bool = False,
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
            silenced=window is not None or history,
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
        escalation_due_at=(
            None if window or history else at + dt.timedelta(minutes=escalation_minutes(severity=severity))
        ),
        source_payload=payload,
        history=history,
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
    if history:  # no push, webhook or email per finding: the scan's summary tells people
        _record(alert=alert, action=AlertEvent.Action.RAISED, actor=actor, at=at, from_status="", pushed=False)
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
