"""Reads of alerts for pages, the API and sockets, always through the user's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alerts.models import Alert, AlertComment, AlertEvent, HistorySummary
from alerts.realtime import AlertEvent as LiveAlertEvent
from core.roles import MANAGER_GROUP, Role
from meters.models import Site
from meters.scoping import scope_for
from meters.selectors.sites import meter_site

LIVE_TYPES: dict[str, str] = {
    AlertEvent.Action.RAISED: "alert.raised",
    AlertEvent.Action.ACKNOWLEDGED: "alert.acknowledged",
    AlertEvent.Action.RESOLVED: "alert.resolved",
}
CATCH_UP_LIMIT = 200  # events a page of catch-up holds
CATCH_UP_MAX = 5000  # past this a socket is told to reload instead


def alert_live_event(*, alert: Alert, event: AlertEvent) -> LiveAlertEvent:
    """The typed socket payload for one audit row (the same live and on catch-up)."""
    return {
        "type": LIVE_TYPES.get(event.action, "alert.updated"),  # type: ignore[typeddict-item]
        "id": alert.pk,
        "event_id": event.pk,
        "action": event.action,
        "kind": alert.kind,
        "hostel_id": alert.hostel_id,
        "hostel": alert.hostel.name if alert.hostel_id and alert.hostel else None,
        "room": alert.room.number if alert.room_id and alert.room else None,
        "title": alert.title,
        "severity": alert.severity,
        "status": event.to_status or alert.status,
        "previous_status": event.from_status or None,
        "at": event.at.isoformat(),
        "url": reverse("alert-detail", args=[alert.pk]),
    }


def alerts_for_user(*, user: Any) -> QuerySet[Alert]:
    """Every alert the user may see, with what a list shows."""
    return Alert.objects.visible_to(user).select_related("hostel__site", "room", "meter", "assigned_to")


def alert_get_for_user(*, user: Any, alert_id: int) -> Alert | None:
    return alerts_for_user(user=user).filter(pk=alert_id).first()


def alerts_earlier_on_meter(*, user: Any, alert: Alert, limit: int = 10) -> list[Alert]:
    """The last alerts on the same meter whose event began before this one's, newest first (none without a meter).

    By event, not by when raised: a scan of history raises a month of alerts in the same minute.
    """
    if alert.meter_id is None:
        return []
    began = alert.event_start or alert.first_seen_at
    earlier = (
        Alert.objects.visible_to(user)
        .filter(meter_id=alert.meter_id)
        .filter(Q(event_start__lt=began) | Q(event_start=began, pk__lt=alert.pk))
        .order_by("-event_start", "-id")
    )
    return list(earlier[:limit])


def alerts_open_count(*, user: Any) -> int:
    """Alerts waiting for someone: open, not yet acknowledged."""
    return int(Alert.objects.visible_to(user).filter(status=Alert.Status.OPEN).count())


def alert_timeline(*, alert: Alert) -> QuerySet[AlertEvent]:
    return alert.events.select_related("actor").order_by("id")


def alert_comments(*, alert: Alert) -> QuerySet[AlertComment]:
    return alert.comments.select_related("author").order_by("created_at", "id")


def _replay_edge(*, since_id: int) -> dt.datetime | None:
    """How far back a resume from `since_id` looks for lower-numbered events that committed later.

    Event ids come from a sequence when the row is inserted, not when it commits: a detection
    sweep's transaction may take an id, and commit seconds after a quicker one that took the next.
    A socket that saw the later id first would skip the earlier one if it resumed by id alone.
    """
    written = AlertEvent.objects.filter(pk__lte=since_id).order_by("-pk").values_list("recorded_at", flat=True)
    newest = written.first()
    return None if newest is None else newest - dt.timedelta(seconds=settings.ALERT_REPLAY_OVERLAP_SECONDS)


def alert_events_since(
    *,
    user: Any,
    since_id: int | None = None,
    since_at: dt.datetime | None = None,
    after_id: int | None = None,
    floor_id: int | None = None,
    limit: int = CATCH_UP_LIMIT,
) -> list[LiveAlertEvent]:
    """One page, oldest first, of the pushed events the user may see after an event id or a time.

    After an id: every later event, and the earlier ones written shortly before it (which may
    have committed after it: the client skips those it has). `after_id` continues the page
    before; a page shorter than `limit` is the last. Nothing at or below `floor_id` is returned.
    """
    events = _events_window(user=user, since_id=since_id, since_at=since_at, after_id=after_id, floor_id=floor_id)
    if events is None:
        return []
    rows = list(events.select_related("alert__hostel", "alert__room").order_by("id")[:limit])
    return [alert_live_event(alert=row.alert, event=row) for row in rows]


def alert_event_ids_since(
    *,
    user: Any,
    since_id: int | None = None,
    since_at: dt.datetime | None = None,
    after_id: int | None = None,
    floor_id: int | None = None,
    limit: int = CATCH_UP_LIMIT,
) -> list[int]:
    """The ids of `alert_events_since`'s page, from the index alone: a socket that has most of
    them (its sweep) then reads only the rows it lacks with `alert_events_by_id`."""
    events = _events_window(user=user, since_id=since_id, since_at=since_at, after_id=after_id, floor_id=floor_id)
    if events is None:
        return []
    return list(events.order_by("id").values_list("id", flat=True)[:limit])


def alert_events_by_id(*, user: Any, ids: list[int]) -> list[LiveAlertEvent]:
    """These pushed events, oldest first, of those the user may see."""
    rows = (
        AlertEvent.objects.visible_to(user)
        .filter(pushed=True, pk__in=ids)
        .select_related("alert__hostel", "alert__room")
        .order_by("id")
    )
    return [alert_live_event(alert=row.alert, event=row) for row in rows]


def _events_window(
    *,
    user: Any,
    since_id: int | None,
    since_at: dt.datetime | None,
    after_id: int | None,
    floor_id: int | None,
) -> Any:
    if since_id is None and since_at is None:
        return None
    events = AlertEvent.objects.visible_to(user).filter(pushed=True)
    if since_id is not None:
        window = Q(pk__gt=since_id)
        edge = _replay_edge(since_id=since_id)
        if edge is not None:
            window |= Q(pk__lt=since_id, recorded_at__gte=edge)
        events = events.filter(window)
    else:
        events = events.filter(at__gt=since_at)
    if after_id is not None:
        events = events.filter(pk__gt=after_id)
    if floor_id is not None:
        events = events.filter(pk__gt=floor_id)
    return events


def last_event_id_for_user(*, user: Any) -> int | None:
    """Where a fresh page starts: the newest pushed event it may see."""
    last = AlertEvent.objects.visible_to(user).filter(pushed=True).aggregate(last=Max("id"))["last"]
    return int(last) if last is not None else None


SINCE_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_EVENT_ID = 2**63 - 1


def parse_since(value: Any) -> tuple[int | None, dt.datetime | None]:
    """A resume cursor: an event id (int or ASCII digits) or an ISO 8601 time with a zone.

    Anything else (other digits such as "²", ids past a bigint, times that cannot be placed in
    UTC) is no cursor. Times are clamped to 1970 to now, so nothing later overflows.
    """
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int):
        return (value, None) if 0 <= value <= MAX_EVENT_ID else (None, None)
    if isinstance(value, str) and len(value) <= 64:
        if value.isascii() and value.isdigit():
            return parse_since(int(value))
        try:
            at = parse_datetime(value)
            if at is None or at.tzinfo is None:
                return None, None
            at = at.astimezone(dt.UTC)
        except (ValueError, OverflowError):  # impossible, or past year 9999 / before year 1 in UTC
            return None, None
        return None, min(max(at, SINCE_EARLIEST), timezone.now())
    return None, None


def alert_assignable_users(*, alert: Alert) -> list[Any]:
    """People who may see the alert: the wardens of its hostel and the facility managers."""
    who = Q(groups__name=MANAGER_GROUP)
    if alert.hostel_id is not None:
        who |= Q(warden_hostels=alert.hostel_id)
    users = get_user_model().objects.filter(who, is_active=True).distinct()
    return list(users.order_by("username"))


def alert_assignee_find(*, alert: Alert, username: str) -> Any | None:
    """The active person of that name who can see the alert, or None (whether absent or not allowed)."""
    person = get_user_model().objects.filter(username=username, is_active=True).first()
    if person is None:
        return None
    scope = scope_for(person)
    if scope.role is Role.NONE or not (scope.everything or alert.hostel_id in scope.hostel_ids):
        return None
    return person


def history_summaries_for_user(*, user: Any, limit: int = 5) -> list[HistorySummary]:
    """The latest history-scan summaries of the user's hostels (campus-wide ones for managers)."""
    return list(HistorySummary.objects.visible_to(user).select_related("hostel").order_by("-created_at", "-id")[:limit])


CLOSURE_KIND = "closure_unexpected"  # the anomaly kind of a working day that ran like a closed day


class ClosureOffer(NamedTuple):
    """The local days an alert found closed, and the site whose calendar would take them."""

    first: dt.date
    last: dt.date
    site: Site


def alert_closure_offer(*, alert: Alert) -> ClosureOffer | None:
    """The local days an alert says ran like closed days, when it can offer to add them to the site's calendar.

    The site is the alert's hostel's or, for a meter in no hostel (a feeder), the one its meter is on: the
    site its transformer feeds, or the only site (as detection judged its days)."""
    payload = alert.source_payload or {}
    if payload.get("kind") != CLOSURE_KIND or not payload.get("start"):
        return None
    if alert.hostel is not None:
        site: Site | None = alert.hostel.site
    elif alert.meter is not None:
        site = meter_site(meter=alert.meter)
    else:
        site = None
    if site is None:
        return None
    zone = ZoneInfo(site.timezone)
    try:
        start = dt.datetime.fromisoformat(payload["start"])
        end = dt.datetime.fromisoformat(payload["end"]) if payload.get("end") else start + dt.timedelta(days=1)
    except (TypeError, ValueError):
        return None
    first = start.astimezone(zone).date()
    last = (end - dt.timedelta(seconds=1)).astimezone(zone).date()
    return ClosureOffer(first, last, site) if last >= first else None
