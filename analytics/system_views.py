"""The system page for administrators: components, queues, schedules, freshness, quarantine, models."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analytics.exports import csv_response, local_iso
from analytics.selectors import (
    health_checks,
    history_scans_latest,
    initial_trainings,
    meters_freshness,
    model_versions_latest,
    quarantine_summary,
    queue_depths,
    schedules_status,
)
from analytics.selectors.meter_health import meter_health_computed_at, meter_health_for_user
from core.roles import Role, role_of
from predictions.detection.streaming import detection_backlog


def _require_admin(request: HttpRequest) -> None:
    if role_of(request.user) is not Role.ADMIN:
        raise PermissionDenied("System health is for administrators.")


@login_required
def system(request: HttpRequest) -> HttpResponse:
    """System health for administrators."""
    _require_admin(request)
    freshness, freshness_counts = meters_freshness(limit=25)
    health = meter_health_for_user(user=request.user, limit=25)
    context = {
        "checks": health_checks(),
        "queue_depths": queue_depths(),
        "detection_backlog": detection_backlog(),
        "schedules": schedules_status(),
        "freshness": freshness,
        "freshness_counts": freshness_counts,
        "quarantine": quarantine_summary(),
        "versions": model_versions_latest(),
        "history_scans": history_scans_latest(),
        "initial_trainings": initial_trainings(),
        "meter_health": health,
        "health_computed_at": meter_health_computed_at(health),
        "health_threshold": settings.METER_HEALTH_ALERT_BELOW,
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
                local_iso(r.last_reading_at),
                r.stale,
            ]
            for r in rows
        ),
    )
