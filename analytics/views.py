"""Pages: landing, site overview dashboard and system health, with their CSV exports."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from analytics import figures
from analytics.exports import csv_response
from analytics.forms import DateRangeForm
from analytics.selectors import (
    daily_consumption_for_user,
    grid_health_for_user,
    health_checks,
    hostel_comparison_for_user,
    hourly_load_for_user,
    meters_freshness,
    model_versions_latest,
    quarantine_summary,
    queue_depth,
    schedules_status,
)
from customers.roles import Role, role_of
from meters.selectors import hostel_for_user, hostels_for_user, readings_latest_for_user, rooms_for_user


def _require_admin(request: HttpRequest) -> None:
    if role_of(request.user) is not Role.ADMIN:
        raise PermissionDenied("System health is for administrators.")


def _require_role(request: HttpRequest) -> Role:
    role = role_of(request.user)
    if role is Role.NONE:
        raise PermissionDenied("Your account has no Wattwatch role yet; ask an administrator to assign one.")
    return role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Every hostel the user may see, and the latest readings from them."""
    role = _require_role(request)
    context = {
        "hostels": hostels_for_user(user=request.user),
        "latest": readings_latest_for_user(user=request.user, limit=15),
        "role": role,
    }
    return render(request, "analytics/home.html", context)


@login_required
def hostel_detail(request: HttpRequest, hostel_id: int) -> HttpResponse:
    """The rooms of one hostel, floor by floor, with occupancy and recent energy."""
    _require_role(request)
    hostel = hostel_for_user(user=request.user, hostel_id=hostel_id)
    if hostel is None:
        raise Http404("No such hostel.")
    rooms = rooms_for_user(user=request.user, hostel_id=hostel.id)
    floors: dict[int, list] = {}
    for room in rooms:
        floors.setdefault(room.floor, []).append(room)
    context = {
        "hostel": hostel,
        "floors": sorted(floors.items()),
        "latest": readings_latest_for_user(user=request.user, limit=10, hostel_id=hostel.id),
    }
    return render(request, "analytics/hostel_detail.html", context)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Site overview: energy and cost over a date range, grid health, hostels compared per occupied bed."""
    _require_role(request)
    form = DateRangeForm(request.GET or None)
    period = form.period()
    if not form.is_bound:
        form = DateRangeForm(initial={"start": period.start, "end": period.end})
    now = timezone.now()
    daily = daily_consumption_for_user(user=request.user, period=period)
    comparison = hostel_comparison_for_user(user=request.user, period=period, now=now)
    hourly = hourly_load_for_user(user=request.user, start=now - dt.timedelta(hours=48), end=now)
    context = {
        "form": form,
        "period": period,
        "grid": grid_health_for_user(user=request.user, now=now),
        "total_kwh": sum(row["kwh"] for row in daily),
        "total_cost": sum(row.cost for row in comparison),
        "currency": comparison[0].currency if comparison else "",
        "comparison": comparison,
        "daily_figure": figures.to_json(figures.daily_consumption_figure(daily)),
        "hourly_figure": figures.to_json(figures.hourly_load_figure(hourly)),
        "comparison_figure": figures.to_json(figures.hostel_comparison_figure(comparison)),
    }
    return render(request, "analytics/dashboard.html", context)


@login_required
def dashboard_hostels_csv(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    form = DateRangeForm(request.GET or None)
    period = form.period()
    rows = hostel_comparison_for_user(user=request.user, period=period)
    return csv_response(
        filename=f"hostels_{period.start}_{period.end}.csv",
        actor=request.user,
        header=["hostel", "kwh", "cost", "currency", "occupied_beds", "beds", "kwh_per_occupied_bed_day"],
        rows=(
            [r.name, round(r.kwh, 3), round(r.cost, 2), r.currency, r.occupied_beds, r.beds, r.kwh_per_occupied_bed_day]
            for r in rows
        ),
    )


@login_required
def system(request: HttpRequest) -> HttpResponse:
    """System health for administrators."""
    _require_admin(request)
    freshness, freshness_counts = meters_freshness(limit=25)
    context = {
        "checks": health_checks(),
        "queue_depth": queue_depth(),
        "schedules": schedules_status(),
        "freshness": freshness,
        "freshness_counts": freshness_counts,
        "quarantine": quarantine_summary(),
        "versions": model_versions_latest(),
    }
    return render(request, "analytics/system.html", context)


@login_required
def system_freshness_csv(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    rows, _ = meters_freshness(limit=100_000)
    return csv_response(
        filename="meter_freshness.csv",
        actor=request.user,
        header=["serial", "kind", "hostel", "room", "interval_minutes", "last_reading_at", "stale"],
        rows=(
            [
                r.serial,
                r.kind,
                r.hostel,
                r.room,
                r.interval_minutes,
                r.last_reading_at.isoformat() if r.last_reading_at else "",
                r.stale,
            ]
            for r in rows
        ),
    )
