"""One click from a closure alert: the days it found closed go into the site's calendar, and the alert resolves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from alerts.models import Alert
from alerts.selectors import ClosureOffer, alert_closure_offer
from alerts.services.audit import _may_act
from alerts.services.lifecycle import alert_resolve
from core.roles import Role, role_of
from meters.models import AcademicPeriod
from meters.services import calendar_closure_add


class NoClosureOffered(Exception):
    """The alert is not a working day that ran like a closed day, or its site cannot be told."""


@dataclass(frozen=True)
class ClosureAdded:
    period: AcademicPeriod
    offer: ClosureOffer
    days: str  # "Tue 29 Oct 2024", "Mon 23 Dec to Wed 01 Jan 2025"


def may_edit_site_calendar(*, user: Any) -> bool:
    """A site's calendar is shared by all its hostels (and the feeders on it): managers and admins edit it."""
    return role_of(user) in (Role.ADMIN, Role.MANAGER)


def alert_closure_calendar_add(*, alert: Alert, user: Any) -> ClosureAdded:
    """Add the alert's closed days to its site's calendar (the hostel's, or a feeder's own site) and resolve it.

    Idempotent: a holiday already covering the days is kept, and a resolved alert keeps its resolution."""
    _may_act(user=user, alert=alert)
    if not may_edit_site_calendar(user=user):
        raise PermissionDenied("Only a facility manager or an administrator can change the site's calendar.")
    offer = alert_closure_offer(alert=alert)
    if offer is None:
        raise NoClosureOffered("This alert does not offer a closed day.")
    first, last = offer.first, offer.last
    days = f"{first:%a %d %b %Y}" if first == last else f"{first:%a %d %b} to {last:%a %d %b %Y}"
    with transaction.atomic():
        period = calendar_closure_add(site=offer.site, first=first, last=last, name=f"Closure (alert #{alert.pk})")
        if alert.status != Alert.Status.RESOLVED:
            note = f"{days} added to {offer.site.name}'s calendar as {period.name}."
            alert_resolve(alert=alert, user=user, note=note)
    return ClosureAdded(period=period, offer=offer, days=days)
