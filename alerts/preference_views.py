"""The notification settings page: each person chooses what reaches them; managers set the escalation policy."""

from __future__ import annotations

import json
import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from alerts.models import AlertKind, EscalationPolicy, PushSubscription, Severity
from alerts.services.policies import DEFAULT_ESCALATION_MINUTES
from alerts.services.preferences import (
    escalation_policies_set,
    notification_choices,
    notification_preference_for,
    notification_preference_update,
)
from alerts.services.push import push_subscription_delete, push_subscription_save
from core.roles import Role, role_of
from meters.models import Hostel


@cache
def _zones() -> list[tuple[str, str]]:
    return [(zone, zone.replace("_", " ")) for zone in sorted(zoneinfo.available_timezones())]


class PreferenceForm(forms.Form):
    email = forms.BooleanField(required=False, label="By email")
    push = forms.BooleanField(required=False, label="By push notification on my devices")
    hostels = forms.ModelMultipleChoiceField(
        queryset=Hostel.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: all of your hostels.",
    )
    kinds = forms.MultipleChoiceField(
        choices=AlertKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Alert kinds",
        help_text="None ticked: every kind.",
    )
    min_severity = forms.ChoiceField(choices=Severity.choices, label="At least this severe")
    quiet_start = forms.TimeField(
        required=False, label="Quiet from", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_end = forms.TimeField(
        required=False, label="Quiet until", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    critical_breaks_quiet = forms.BooleanField(required=False, label="Critical alerts still reach me in quiet hours")
    daily_summary = forms.BooleanField(required=False, label="One daily summary instead of a message per alert")
    summary_at = forms.TimeField(
        label="Send the summary at", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    time_zone = forms.ChoiceField(choices=(), label="My time zone")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the hostels the person may see are offered, and only they are accepted.
        hostels = self.fields["hostels"]
        assert isinstance(hostels, forms.ModelMultipleChoiceField)
        hostels.queryset = Hostel.objects.visible_to(user).order_by("name")
        zones = self.fields["time_zone"]
        assert isinstance(zones, forms.ChoiceField)
        zones.choices = _zones()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("quiet_start") is None) != (data.get("quiet_end") is None):
            self.add_error("quiet_end", "Give both the start and the end of quiet hours, or neither.")
        return data


class EscalationForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = dict(EscalationPolicy.objects.values_list("severity", "minutes"))
        for severity, label in reversed(Severity.choices):
            self.fields[severity] = forms.IntegerField(
                min_value=1,
                max_value=7 * 24 * 60,
                label=f"{label}: tell facility managers after (minutes)",
                initial=current.get(severity, DEFAULT_ESCALATION_MINUTES[severity]),
            )


def _role(request: HttpRequest) -> Role:
    role = role_of(request.user)
    if role is Role.NONE:
        raise PermissionDenied("Your account has no Wattwatch role yet; ask an administrator to assign one.")
    return role


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """GET shows the person's choices; POST saves them (through the service, which checks the hostels' scope)."""
    role = _role(request)
    form = PreferenceForm(
        request.POST or None,
        user=request.user,
        initial=notification_choices(notification_preference_for(user=request.user)),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notification_preference_update(user=request.user, **{**data, "hostels": list(data["hostels"])})
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your notification settings were saved.")
            return HttpResponseRedirect(reverse("notification-settings"))
    devices = PushSubscription.objects.filter(user_id=int(request.user.pk or 0)).order_by("-created_at")
    context = {
        "form": form,
        "role": role,
        "devices": devices,
        "vapid_public_key": settings.VAPID_PUBLIC_KEY,
        "escalation_form": EscalationForm() if role in (Role.MANAGER, Role.ADMIN) else None,
    }
    return render(request, "alerts/settings.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def escalation_settings(request: HttpRequest) -> HttpResponse:
    """Facility managers set how long each severity waits before they are told."""
    if _role(request) not in (Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("Only facility managers change the escalation policy.")
    form = EscalationForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Escalation policy not saved: "
            + "; ".join(
                f"{form.fields[name].label}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
            ),
        )
        return HttpResponseRedirect(reverse("notification-settings") + "#escalation")
    escalation_policies_set(user=request.user, minutes=form.cleaned_data)
    messages.success(request, "The escalation policy was saved.")
    return HttpResponseRedirect(reverse("notification-settings") + "#escalation")


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as error:
        raise ValidationError(f"The request body is not JSON: {error}.") from None
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    return body


def _errors(error: ValidationError) -> JsonResponse:
    detail = error.message_dict if hasattr(error, "error_dict") else {"subscription": error.messages}
    return JsonResponse({"detail": "The subscription was refused.", "errors": detail}, status=400)


@login_required
@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """The page's script posts the browser's PushSubscription here after the person allowed notifications."""
    _role(request)
    try:
        saved = push_subscription_save(
            user=request.user,
            subscription=_json_body(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except ValidationError as error:
        return _errors(error)
    return JsonResponse({"id": saved.pk, "detail": "Notifications are on for this device."}, status=201)


@login_required
@require_POST
def push_unsubscribe(request: HttpRequest) -> JsonResponse:
    """Forget this device (the person turned notifications off here)."""
    _role(request)
    try:
        endpoint = str(_json_body(request).get("endpoint", ""))
    except ValidationError as error:
        return _errors(error)
    removed = push_subscription_delete(user=request.user, endpoint=endpoint)
    return JsonResponse({"removed": removed, "detail": "Notifications are off for this device."})
