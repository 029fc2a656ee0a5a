"""Raising an alert: open, repeat (dedupe), absorb a near-duplicate (group) or record silently when suppressed.

The dedupe key names one finding: raised again, it repeats its alert. The group key names the
meter and kind: an active alert absorbs other findings of its group whose event begins within
`ALERT_GROUP_HOURS` of its own, counting them and moving "last seen" without notifying again,
unless the finding is more severe, which notifies once at the new severity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.metrics import ALERTS_RAISED
from alerts.models import (
    Alert,
    AlertEvent,
    AlertKind,
)
from alerts.services.audit import _record
from alerts.services.notifications import _first_responders, _notify_people
from alerts.services.policies import (
    _max_severity,
    _min_severity,
    escalation_minutes,
    severity_for,
    suppression_covering,
)
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
    group_key: str | None = None,
    event_start: dt.datetime | None = None,
    event_end: dt.datetime | None = None,
    source_payload: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
    actor: Any = None,
    history: bool = False,
    severity_ceiling: str | None = None,
) -> Alert:
    """Open an alert, or update the active one with the same dedupe key or group; record it silently when suppressed.

    `group_key` (opt-in: detection passes its meter and kind) lets an active alert absorb this finding
    as a near-duplicate; `event_start` and `event_end` say when the problem itself began and ended
    (default: it began when raised).

    `history=True`: found by a scan of stored history, `at` being the event's own time. The alert is
    stored and listed (marked as found in history) but not pushed, emailed, sent to webhooks or
    escalated one by one: the scan sends one summary instead (alerts.services.history).

    `severity_ceiling`: the most severe this finding can be, whatever its score or the severity rules
    say (detection caps a closed day's alert: it costs nothing and no one needs waking for it).
    """
    at = at or timezone.now()
    if room is None and meter is not None and meter.room_id:
        room = meter.room
    if hostel is None:
        hostel = room.hostel if room is not None else (meter.hostel if meter is not None else None)
    key = dedupe_key or f"{kind}:{hostel.pk if hostel else '-'}:{room.pk if room else '-'}:{meter.pk if meter else '-'}"
    if not dedupe_key and kind == AlertKind.MANUAL:
        # A person reporting a second problem in the same place means a second alert: the same
        # title again is the same report (a double submit), another title is not.
        key += ":" + hashlib.sha256(title.strip().casefold().encode()).hexdigest()[:16]
    group = group_key or ""
    if event_start is not None and event_end is not None and event_end < event_start:
        raise ValueError("An event cannot end before it starts.")
    severity = severity_for(kind=kind, score=score, excess_cost=excess_cost)
    if severity_ceiling is not None:
        severity = _min_severity(severity, severity_ceiling)
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
                    group=group,
                    event_start=event_start or at,
                    event_end=event_end,
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
    group: str,
    event_start: dt.datetime,
    event_end: dt.datetime | None,
    severity: str,
    payload: dict[str, Any],
    at: dt.datetime,
    actor: Any,
    history: bool = False,
) -> Alert:
    window = suppression_covering(hostel_id=hostel.pk if hostel else None, room_id=room.pk if room else None, at=at)
    existing = Alert.objects.select_for_update().filter(dedupe_key=key, status__in=Alert.ACTIVE).first()
    if existing is None:
        existing = _group_absorbing(group=group, event_start=event_start)
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
            event_start=event_start,
            event_end=event_end,
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
        group_key=group,
        event_start=event_start,
        event_end=event_end,
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
    counter = ALERTS_RAISED.labels(kind=alert.kind, severity=alert.severity)
    transaction.on_commit(counter.inc)
    _notify_people(alert=alert, event=event, people=_first_responders(alert=alert))
    return alert


def _group_absorbing(*, group: str, event_start: dt.datetime) -> Alert | None:
    """The active alert of the group whose event began nearest before (or just after) this one, within the window."""
    hours = settings.ALERT_GROUP_HOURS
    if not group or hours <= 0:
        return None
    reach = dt.timedelta(hours=hours)
    return (
        Alert.objects.select_for_update()
        .filter(
            group_key=group,
            status__in=Alert.ACTIVE,
            event_start__gte=event_start - reach,
            event_start__lte=event_start + reach,
        )
        .order_by("-event_start", "-id")
        .first()
    )


def _repeat(
    *,
    alert: Alert,
    title: str,
    explanation: str,
    score: float | None,
    cost: Decimal | None,
    severity: str,
    payload: dict[str, Any],
    event_start: dt.datetime,
    event_end: dt.datetime | None,
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
    alert.event_start = min(alert.event_start or event_start, event_start)
    if event_end is not None:
        alert.event_end = max(alert.event_end or event_end, event_end)
    if (
        alert.severity != before
        and alert.status == Alert.Status.OPEN
        and alert.escalation_level == 0
        and not alert.history  # found in history: never escalated one by one
    ):
        sooner = alert.opened_at + dt.timedelta(minutes=escalation_minutes(severity=alert.severity))
        alert.escalation_due_at = min(alert.escalation_due_at or sooner, sooner)
    alert.save()
    pushed = not silenced and alert.status != Alert.Status.SUPPRESSED
    # A repeat notifies no one; a finding more severe than the alert tells its people once, at the new severity.
    worse = pushed and alert.severity != before
    event = _record(
        alert=alert,
        action=AlertEvent.Action.WORSENED if worse else AlertEvent.Action.REPEATED,
        actor=actor,
        at=at,
        from_status=alert.status,
        detail={"occurrences": alert.occurrences, "severity_from": before, "severity_to": alert.severity},
        pushed=pushed,
    )
    if worse:
        _notify_people(alert=alert, event=event, people=_first_responders(alert=alert))
    return alert


def alert_event_follow(
    *,
    dedupe_key: str,
    group_key: str,
    anomaly_id: int,
    event_start: dt.datetime,
    event_end: dt.datetime,
    explanation: str,
    excess_cost: Decimal | None,
) -> int:
    """The alerts of a finding that has grown since they were raised take its span and words; returns how many.

    A closure first seen over two days and found to run for a week, or an excess going on into the next window, is
    the same event: the finding is extended, not raised again, so its alert must say what it now is. Nobody is told
    again and nothing else of the alert changes (its status, its people, its count).
    """
    changed = 0
    # Its own alert, or the alert of its group that took it in as a repeat, while active (a resolved alert is a record
    # of what was known when it was closed). Both lookups are indexed.
    alerts = Alert.objects.filter(
        Q(dedupe_key=dedupe_key) | Q(group_key=group_key, source_payload__anomaly_id=anomaly_id),
        status__in=Alert.ACTIVE,
    )
    with transaction.atomic():
        for alert in alerts.select_for_update():
            start = min(alert.event_start or event_start, event_start)
            end = max(alert.event_end or event_end, event_end)
            cost = max(alert.excess_cost or Decimal(0), excess_cost) if excess_cost is not None else alert.excess_cost
            words = explanation or alert.explanation
            if (start, end, cost, words) == (alert.event_start, alert.event_end, alert.excess_cost, alert.explanation):
                continue
            alert.event_start, alert.event_end, alert.excess_cost, alert.explanation = start, end, cost, words
            alert.save(update_fields=["event_start", "event_end", "excess_cost", "explanation"])
            changed += 1
    return changed
