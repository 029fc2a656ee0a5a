"""Pages: interventions listed, one intervention with its measured savings, and the form to log one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from analytics import figures
from analytics.savings.figures import savings_figure
from analytics.savings.forms import InterventionForm
from analytics.savings.services import (
    intervention_create,
    intervention_for_user,
    intervention_measure,
    interventions_for_user,
    measurement_days,
)
from core.roles import Role, role_of


def _role(request: HttpRequest) -> Role:
    role = role_of(request.user)
    if role is Role.NONE:
        raise PermissionDenied("Your account has no Wattwatch role yet; ask an administrator to assign one.")
    return role


@login_required
def intervention_list(request: HttpRequest) -> HttpResponse:
    """Interventions the user may see, with the savings last measured."""
    role = _role(request)
    context = {"interventions": interventions_for_user(user=request.user), "can_log": role is not Role.WARDEN}
    return render(request, "analytics/interventions.html", context)


@login_required
def intervention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One intervention as last measured (on save, nightly or by "Measure now"): baseline against actual,
    cumulative savings, uncertainty and baseline quality. Reading it never measures."""
    role = _role(request)
    intervention = intervention_for_user(user=request.user, pk=pk)
    if intervention is None:
        raise Http404("No such intervention.")
    rows = measurement_days(intervention) if not intervention.measure_error else []
    stored = intervention.measurement or {}
    context = {
        "g14_points": 100 * float(stored.get("guideline14_half_width") or 0.0),
        "holdout_percent": None
        if stored.get("baseline_holdout_error") is None
        else 100 * float(stored["baseline_holdout_error"]),
        "intervention": intervention,
        "result": intervention.measurement if rows else None,
        "can_measure": role is not Role.WARDEN,
        "figure": figures.to_json(savings_figure(rows, title=f"{intervention.title}: baseline against actual"))
        if rows
        else None,
    }
    return render(request, "analytics/intervention_detail.html", context)


@login_required
@require_POST
def intervention_measure_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Managers and admins measure one intervention at once (a fit of about a second), then see it."""
    if _role(request) is Role.WARDEN:
        raise PermissionDenied("Facility managers measure interventions.")
    intervention = intervention_for_user(user=request.user, pk=pk)
    if intervention is None:
        raise Http404("No such intervention.")
    intervention_measure(intervention=intervention)
    return redirect("intervention-detail", pk=intervention.pk)


@login_required
def intervention_new(request: HttpRequest) -> HttpResponse:
    """Managers and admins log a change."""
    if _role(request) is Role.WARDEN:
        raise PermissionDenied("Facility managers log interventions.")
    form = InterventionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        intervention = intervention_create(
            title=data["title"],
            description=data["description"],
            start=data["start"],
            meter=data["meter"],
            hostel=data["hostel"],
            site=data["site"],
            expected_saving_fraction=data["expected_saving_fraction"],
            expected_kwh_per_year=data["expected_kwh_per_year"],
            created_by=request.user,
        )
        return redirect("intervention-detail", pk=intervention.pk)
    return render(request, "analytics/intervention_form.html", {"form": form}, status=400 if form.errors else 200)
