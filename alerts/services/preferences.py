"""Writes behind the notification settings page: a person's own choices, and the managers' escalation policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from alerts.models import EscalationPolicy, NotificationPreference, Severity
from core.roles import Role, role_of
from customers.models import AuditEntry
from customers.services import audit_record
from meters.models import Hostel


def notification_preference_for(*, user: Any) -> NotificationPreference:
    """The user's saved choices, or (unsaved) the defaults: everything, by email and push, at once."""
    found = NotificationPreference.objects.filter(user=user).first()
    if found is not None:
        return found
    zone = (
        Hostel.objects.visible_to(user).order_by("name").values_list("site__timezone", flat=True).first()
        or settings.TIME_ZONE
    )
    return NotificationPreference(user=user, time_zone=zone)


def notification_choices(pref: NotificationPreference) -> dict[str, Any]:
    """A preference as the settings page and the settings API both show it (hostels in id order)."""
    return {
        "email": pref.email,
        "push": pref.push,
        "hostels": list(pref.hostels.order_by("pk")) if pref.pk else [],
        "kinds": pref.kinds,
        "min_severity": pref.min_severity,
        "quiet_start": pref.quiet_start,
        "quiet_end": pref.quiet_end,
        "critical_breaks_quiet": pref.critical_breaks_quiet,
        "daily_summary": pref.daily_summary,
        "summary_at": pref.summary_at,
        "time_zone": pref.time_zone,
    }


def notification_preference_update(
    *,
    user: Any,
    email: bool,
    push: bool,
    hostels: list[Hostel],
    kinds: list[str],
    min_severity: str,
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
    critical_breaks_quiet: bool,
    daily_summary: bool,
    summary_at: dt.time,
    time_zone: str,
) -> NotificationPreference:
    """Save what reaches `user`. A hostel they may not see is refused: nobody subscribes to another's hostel."""
    if role_of(user) is Role.NONE:
        raise PermissionDenied("Your account has no Wattwatch role yet; ask an administrator to assign one.")
    visible = set(Hostel.objects.visible_to(user).filter(pk__in=[h.pk for h in hostels]).values_list("pk", flat=True))
    outside = sorted(h.pk for h in hostels if h.pk not in visible)
    if outside:
        raise ValidationError({"hostels": f"Hostel(s) {', '.join(map(str, outside))} are not among yours."})
    with transaction.atomic():
        pref = notification_preference_for(user=user)
        pref.email, pref.push = email, push
        pref.kinds = sorted(set(kinds))
        pref.min_severity = min_severity
        pref.quiet_start, pref.quiet_end = quiet_start, quiet_end
        pref.critical_breaks_quiet = critical_breaks_quiet
        pref.daily_summary, pref.summary_at = daily_summary, summary_at
        pref.time_zone = time_zone
        pref.full_clean(exclude=["user"])
        pref.save()
        pref.hostels.set(hostels)
    return pref


def escalation_policies_set(*, user: Any, minutes: dict[str, int]) -> list[EscalationPolicy]:
    """Facility managers (and admins) set how long an unacknowledged alert of each severity waits."""
    if role_of(user) not in (Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("Only facility managers change the escalation policy.")
    unknown = sorted(set(minutes) - set(Severity.values))
    if unknown:
        raise ValidationError(f"Unknown severity: {', '.join(unknown)}.")
    for severity, value in minutes.items():
        if not 1 <= int(value) <= 7 * 24 * 60:
            raise ValidationError({severity: "Give between 1 minute and 7 days (10080 minutes)."})
    saved = []
    with transaction.atomic():
        for severity, value in minutes.items():
            policy, _ = EscalationPolicy.objects.update_or_create(severity=severity, defaults={"minutes": int(value)})
            saved.append(policy)
        audit_record(
            actor=user,
            action=AuditEntry.Action.CONFIG,
            target="escalation policy",
            detail={severity: int(value) for severity, value in minutes.items()},
        )
    return saved
