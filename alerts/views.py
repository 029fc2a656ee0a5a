"""The alert inbox and detail pages; every action is a POST form through a service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from alerts import services
from alerts.evidence import alert_evidence
from alerts.models import Alert, Severity
from alerts.selectors import (
    alert_assignable_users,
    alert_closure_offer,
    alert_comments,
    alert_get_for_user,
    alert_timeline,
    alerts_earlier_on_meter,
    alerts_for_user,
    history_summaries_for_user,
)
from alerts.templatetags.alert_times import alert_zone, duration_text, local_text, span_text
from core.roles import Role, role_of
from meters.models import Hostel

SNOOZE_CHOICES = [(60, "1 hour"), (240, "4 hours"), (1440, "1 day")]
STATUS_FILTERS = [("active", "Needing attention"), *Alert.Status.choices, ("all", "All")]


def _require_role(request: HttpRequest) -> Role:
    role = role_of(request.user)
    if role is Role.NONE:
        raise PermissionDenied("Your account has no Wattwatch role yet; ask an administrator to assign one.")
    return role


def _alert_or_404(request: HttpRequest, alert_id: int) -> Alert:
    alert = alert_get_for_user(user=request.user, alert_id=alert_id)
    if alert is None:
        raise Http404("No such alert.")
    return alert


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Alerts in the user's hostels, filtered by status, severity and hostel."""
    _require_role(request)
    alerts = alerts_for_user(user=request.user)
    status = request.GET.get("status", "active")
    if status == "active":
        alerts = alerts.filter(status__in=Alert.ACTIVE)
    elif status in Alert.Status.values:
        alerts = alerts.filter(status=status)
    severity = request.GET.get("severity", "")
    if severity in Severity.values:
        alerts = alerts.filter(severity=severity)
    hostels = Hostel.objects.visible_to(request.user).order_by("name")
    hostel = request.GET.get("hostel", "")
    if hostel.isdigit():
        alerts = alerts.filter(hostel_id=int(hostel))
    page = Paginator(alerts.order_by("-last_seen_at", "-id"), 50).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "page": page,
        "alerts": page.object_list,
        "status": status,
        "severity": severity,
        "hostel": hostel,
        "hostels": hostels,
        "status_filters": STATUS_FILTERS,
        "severities": Severity.choices,
        "snooze_choices": SNOOZE_CHOICES,
        "query": request.GET.urlencode(),
        "history_summaries": history_summaries_for_user(user=request.user),
    }
    return render(request, "alerts/inbox.html", context)


def _meter_link(request: HttpRequest, alert: Alert) -> str | None:
    """Meters have no page of their own: admins get the meter's admin page, others the page that shows it."""
    if alert.meter_id is None:
        return None
    if request.user.is_staff:
        return reverse("admin:meters_meter_change", args=[alert.meter_id])
    if alert.room_id is not None:
        return reverse("room-detail", args=[alert.room_id])
    if alert.hostel_id is not None:
        return reverse("hostel-detail", args=[alert.hostel_id])
    return None


def _event(
    alert: Alert, start: dt.datetime, end: dt.datetime | None, spans: tuple[tuple[dt.datetime, dt.datetime], ...]
) -> dict[str, Any]:
    zone = alert_zone(alert)
    if len(spans) > 1:  # a grouped alert: how long its incidents lasted, not the time between them
        total = sum((b - a for a, b in spans), dt.timedelta())
        return {"span": span_text(start, end, zone), "duration": f"{duration_text(total)} in {len(spans)} incidents"}
    return {
        "span": span_text(start, end, zone),
        "duration": duration_text((end or timezone.now()) - start),
        "ongoing": end is None,
    }


@login_required
def detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    """One alert with its evidence (chart, when, where), earlier alerts on its meter, audit trail and comments."""
    _require_role(request)
    alert = _alert_or_404(request, alert_id)
    evidence = alert_evidence(alert=alert, user=request.user)
    start = evidence.start or alert.event_start or alert.first_seen_at
    end = evidence.end or alert.event_end
    if end is None and not alert.is_active:
        end = alert.resolved_at or alert.last_seen_at  # not known to have ended earlier than it was closed
    context = {
        "alert": alert,
        "evidence": evidence,
        "event": _event(alert, start, end, evidence.spans),
        "meter_link": _meter_link(request, alert),
        "earlier": alerts_earlier_on_meter(user=request.user, alert=alert),
        "timeline": alert_timeline(alert=alert),
        "comments": alert_comments(alert=alert),
        "snooze_choices": SNOOZE_CHOICES,
        "assignable": alert_assignable_users(alert=alert) if alert.status != Alert.Status.RESOLVED else [],
        "closure_offer": alert_closure_offer(alert=alert),
        "can_edit_calendar": _may_edit_calendar(request),
    }
    return render(request, "alerts/detail.html", context)


def _feedback_message(*, alert_id: int, true_alarm: bool, was_resolved: bool) -> str:
    if true_alarm:
        return f"Alert #{alert_id} marked a true alarm; it stays as it was."
    if was_resolved:
        return f"Alert #{alert_id} marked a false alarm (it was already resolved)."
    return f"Alert #{alert_id} marked a false alarm and resolved."


@login_required
@require_POST
def act(request: HttpRequest, alert_id: int, action: str) -> HttpResponse:
    """Acknowledge, resolve, snooze, comment or give feedback, then go back where the user was."""
    _require_role(request)
    alert = _alert_or_404(request, alert_id)
    user = request.user
    done = ""
    try:
        if action == "acknowledge":
            services.alert_acknowledge(alert=alert, user=user)
            done = f"Alert #{alert.pk} acknowledged."
        elif action == "resolve":
            services.alert_resolve(alert=alert, user=user, note=request.POST.get("note", ""))
            done = f"Alert #{alert.pk} resolved."
        elif action == "snooze":
            minutes = int(request.POST.get("minutes", "60"))
            if minutes not in dict(SNOOZE_CHOICES):
                raise services.AlertTransitionError("Choose how long to snooze.")
            until = timezone.now() + dt.timedelta(minutes=minutes)
            services.alert_snooze(alert=alert, user=user, until=until)
            done = f"Alert #{alert.pk} snoozed until {local_text(until, alert_zone(alert))}."
        elif action == "comment":
            services.alert_comment(alert=alert, user=user, body=request.POST.get("body", ""))
            done = f"Comment added to alert #{alert.pk}."
        elif action == "assign":
            chosen = request.POST.get("assignee", "")
            people = {person.pk: person for person in alert_assignable_users(alert=alert)}
            if chosen and (not chosen.isdigit() or int(chosen) not in people):
                raise services.AlertTransitionError("Choose someone who can see this alert.")
            assignee = people[int(chosen)] if chosen else None
            services.alert_assign(alert=alert, user=user, assignee=assignee)
            done = (
                f"Alert #{alert.pk} assigned to {assignee.get_username()}."
                if assignee is not None
                else f"Alert #{alert.pk} is assigned to nobody now."
            )
        elif action == "feedback":
            true_alarm = request.POST.get("true_alarm") == "true"
            was_resolved = alert.status == Alert.Status.RESOLVED
            services.alert_feedback(alert=alert, user=user, true_alarm=true_alarm)
            done = _feedback_message(alert_id=alert.pk, true_alarm=true_alarm, was_resolved=was_resolved)
        else:
            raise Http404("No such action.")
    except (services.AlertTransitionError, ValueError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("alert-detail", args=[alert.pk])
    return HttpResponseRedirect(target)


def _may_edit_calendar(request: HttpRequest) -> bool:
    """A site's calendar is shared by all its hostels: managers and admins edit it, wardens do not."""
    return services.may_edit_site_calendar(user=request.user)


@login_required
@require_POST
def closure_add(request: HttpRequest, alert_id: int) -> HttpResponse:
    """One click: the days an alert found closed go into the site's calendar as a holiday, and the alert resolves."""
    _require_role(request)
    alert = _alert_or_404(request, alert_id)
    try:
        added = services.alert_closure_calendar_add(alert=alert, user=request.user)
    except services.NoClosureOffered as error:
        raise Http404(str(error)) from error
    messages.success(request, f"{added.days} is now a closed day in {added.offer.site.name}'s calendar.")
    return HttpResponseRedirect(reverse("alert-detail", args=[alert.pk]))
