"""Pages: landing, site overview dashboard and system health, with their CSV exports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from analytics import figures
from analytics.exports import csv_response, local_iso
from analytics.forms import DateRangeForm
from analytics.models import PublicHostelPage
from analytics.selectors import (
    DateRange,
    carbon_kg_for_user,
    daily_consumption_for_user,
    grid_health_for_user,
    hostel_comparison_for_user,
    hourly_load_for_user,
)
from analytics.selectors.energy import insights_for, subject_for_hostel, subject_for_room
from analytics.selectors.heatmap import (
    FAR_ABOVE_SHARE,
    Why,
    room_deviations_for_user,
    rooms_above_expected,
    rooms_far_above_for_user,
)
from analytics.selectors.insights import (
    ForecastSubject,
    alert_queue_for_user,
    forecast_series_for_user,
    forecast_subjects_for_user,
    open_alerts_by_severity_for_user,
    segment_rows_for_user,
    transformer_risk_rows_for_user,
)
from analytics.selectors.meter_health import meter_health_computed_at, meter_health_for_user
from analytics.selectors.overview import (
    hour_so_far,
    reconcile,
    rooms_energy_past_for_user,
    today_against_usual_for_user,
)
from analytics.selectors.rooms import (
    PROFILE_WEEKS,
    room_alerts_for_user,
    room_anomalies,
    room_for_user,
    room_hours,
    room_meter,
    room_occupancy,
)
from core.roles import Role, role_of
from meters.selectors import (
    hostel_for_user,
    hostels_for_user,
    meters_silent_for_user,
    readings_latest_for_user,
    rooms_for_user,
)


def _require_manager(request: HttpRequest) -> None:
    if _require_role(request) is Role.WARDEN:
        raise PermissionDenied("Transformer risk and customer segments are for facility managers and administrators.")


def _require_role(request: HttpRequest) -> Role:
    role = role_of(request.user)
    if role is Role.NONE:
        raise PermissionDenied("Your account has no Wattwatch role yet; ask an administrator to assign one.")
    return role


HOME_WINDOW = dt.timedelta(hours=6)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs attention first (open alerts by severity, rooms above expected, silent meters, today against a
    usual day), then the hostels the user may see."""
    role = _require_role(request)
    now = timezone.now()
    silent_count, silent = meters_silent_for_user(user=request.user, now=now)
    context = {
        "hostels": hostels_for_user(user=request.user),
        "severities": open_alerts_by_severity_for_user(user=request.user),
        "alert_queue": alert_queue_for_user(user=request.user, limit=5),
        "above": rooms_far_above_for_user(user=request.user, now=now, window=HOME_WINDOW, limit=10),
        "above_hours": int(HOME_WINDOW.total_seconds() // 3600),
        "far_above_pct": round(100 * FAR_ABOVE_SHARE),
        "silent_count": silent_count,
        "silent": silent,
        "today": today_against_usual_for_user(user=request.user, now=now),
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
    timezone.activate(hostel.site.tz)
    rooms = rooms_for_user(user=request.user, hostel_id=hostel.id)
    floors: dict[int, list] = {}
    for room in rooms:
        floors.setdefault(room.floor, []).append(room)
    deviations = room_deviations_for_user(user=request.user, hostel_id=hostel.id)
    context = {
        "hostel": hostel,
        "heatmap_figure": figures.to_json(figures.room_heatmap_figure(deviations)) if deviations else None,
        "not_scanned": [d.number for d in deviations if d.why == Why.NOT_SCANNED],
        "no_readings": [d.number for d in deviations if d.why == Why.NO_READINGS],
        "above": rooms_above_expected(deviations),
        "deviation_floors": _by_floor(deviations),
        "far_above_pct": round(100 * FAR_ABOVE_SHARE),
        "floors": sorted(floors.items()),
        "insights": insights_for(subject=subject_for_hostel(hostel)),
        "public_page": PublicHostelPage.objects.filter(hostel=hostel, enabled=True).first(),
    }
    return render(request, "analytics/hostel_detail.html", context)


def _by_floor(deviations: list[Any]) -> list[tuple[int, list[Any]]]:
    floors: dict[int, list[Any]] = {}
    for cell in deviations:
        floors.setdefault(cell.floor, []).append(cell)
    return sorted(floors.items(), reverse=True)  # the top floor first, as a building stands


ROOM_MAX_DAYS = 31


def _room_window(request: HttpRequest, room: Any) -> tuple[DateRangeForm, DateRange, dt.datetime, dt.datetime]:
    """The chosen local days (at most ROOM_MAX_DAYS, the last 7 by default) as UTC bounds in the site's zone."""
    form = DateRangeForm(request.GET or None)
    period = form.period(default_days=7)
    if not form.is_bound:
        form = DateRangeForm(initial={"start": period.start, "end": period.end})
    start_day = max(period.start, period.end - dt.timedelta(days=ROOM_MAX_DAYS - 1))
    tz = room.hostel.site.tz
    start = dt.datetime.combine(start_day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    return (
        form,
        DateRange(start=start_day, end=period.end),
        start,
        min(end, timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)),
    )


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def _kwh(value: float | None) -> float | None:
    """kWh as people read them: to the watt-hour, never 15 decimals."""
    return _round(value, 3)


def _bad_range(form: DateRangeForm) -> HttpResponse:
    """An export asked for a range that is not valid: say why, in plain text."""
    reasons = "; ".join(str(message) for messages in form.errors.values() for message in messages)
    return HttpResponse(f"Invalid date range: {reasons}\n", status=400, content_type="text/plain; charset=utf-8")


def _room_or_404(request: HttpRequest, room_id: int) -> Any:
    _require_role(request)
    room = room_for_user(user=request.user, room_id=room_id)
    if room is None:
        raise Http404("No such room.")
    return room


@login_required
def room_detail(request: HttpRequest, room_id: int) -> HttpResponse:
    """One room: hourly kWh against its expected band with anomalies, occupancy, temperature, alert history."""
    room = _room_or_404(request, room_id)
    timezone.activate(room.hostel.site.tz)  # the room's own site (the middleware deactivates it after)
    form, period, start, end = _room_window(request, room)
    meter = room_meter(room=room)
    points = room_hours(room=room, meter=meter, start=start, end=end)
    anomalies = list(room_anomalies(room=room, start=start, end=end))
    has_expected = any(p.expected is not None for p in points)
    health = meter_health_for_user(user=request.user, meter_id=meter.pk) if meter else []
    context = {
        "room": room,
        "meter": meter,
        "form": form,
        "period": period,
        "has_expected": has_expected,
        "profile_weeks": PROFILE_WEEKS,
        "hours_figure": (
            figures.to_json(
                figures.room_hours_figure(
                    points, anomalies, title=f"Room {room.number}, kWh per hour", zone=room.hostel.site.tz
                )
            )
            if points
            else None
        ),
        "anomalies": anomalies,
        "occupancy": room_occupancy(room=room),
        "latest_temperature": next((p for p in reversed(points) if p.temperature_c is not None), None),
        "alerts": room_alerts_for_user(user=request.user, room=room),
        "latest": readings_latest_for_user(user=request.user, limit=10, room_id=room.pk),
        "insights": insights_for(subject=subject_for_room(room)),
        "health": health,
        "health_computed_at": meter_health_computed_at(health),
    }
    return render(request, "analytics/room_detail.html", context, status=form.status)


@login_required
def room_hours_csv(request: HttpRequest, room_id: int) -> HttpResponse:
    room = _room_or_404(request, room_id)
    timezone.activate(room.hostel.site.tz)
    form, _, start, end = _room_window(request, room)
    if form.status == 400:
        return _bad_range(form)
    points = room_hours(room=room, meter=room_meter(room=room), start=start, end=end)
    return csv_response(
        filename=f"room_{room.number}_{start:%Y%m%d}_{end:%Y%m%d}.csv",
        actor=request.user,
        header=["hour", "kwh", "expected_kwh", "expected_low_kwh", "expected_high_kwh", "outdoor_c"],
        rows=(
            [
                local_iso(p.hour),
                _kwh(p.actual),
                _kwh(p.expected),
                _kwh(p.low),
                _kwh(p.high),
                _round(p.temperature_c, 1),
            ]
            for p in points
        ),
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Energy and cost over a date range, grid health, the alert queue; managers and admins also compare hostels
    and see transformer risk and segments, a warden sees their hostel against its own past."""
    role = _require_role(request)
    form = DateRangeForm(request.GET or None)
    period = form.period()
    if not form.is_bound:
        form = DateRangeForm(initial={"start": period.start, "end": period.end})
    now = timezone.now()
    zone = timezone.get_current_timezone()
    daily = daily_consumption_for_user(user=request.user, period=period)
    comparison = hostel_comparison_for_user(user=request.user, period=period, now=now)
    hourly = hourly_load_for_user(user=request.user, start=now - dt.timedelta(hours=48), end=now)
    subjects = forecast_subjects_for_user(user=request.user)
    subject = _forecast_subject(request, subjects)
    forecast = _forecast_points(request, subject, now)
    grid = grid_health_for_user(user=request.user, now=now)
    warden = role is Role.WARDEN
    context = {
        "warden": warden,
        "title": ", ".join(row.name for row in comparison) if warden and comparison else "Site overview",
        "past": (
            rooms_energy_past_for_user(user=request.user, hostel_id=comparison[0].id, period=period)
            if warden and len(comparison) == 1
            else []
        ),
        "forecast_subjects": subjects,
        "forecast_subject": subject,
        "forecast_figure": (
            figures.to_json(
                figures.forecast_band_figure(forecast, title=f"Forecast against actual: {subject.label}", zone=zone)
            )
            if subject and forecast
            else None
        ),
        "risks": [] if warden else transformer_risk_rows_for_user(user=request.user),
        "segments": [] if warden else segment_rows_for_user(user=request.user),
        "alert_queue": alert_queue_for_user(user=request.user),
        "form": form,
        "period": period,
        "grid": grid,
        "hour_so_far": hour_so_far(grid.hour, now),
        "hour_end": grid.hour + dt.timedelta(hours=1) if grid.hour else None,
        "reconciliation": reconcile(daily=daily, comparison=comparison),
        "total_cost": sum(row.cost for row in comparison),
        "total_carbon_kg": carbon_kg_for_user(user=request.user, period=period),
        "currency": comparison[0].currency if comparison else "",
        "comparison": comparison,
        "daily_figure": figures.to_json(figures.daily_consumption_figure(daily, now=timezone.localtime(now))),
        "hourly_figure": figures.to_json(figures.hourly_load_figure(hourly, now=now, zone=zone)),
        "comparison_figure": figures.to_json(figures.hostel_comparison_figure(comparison))
        if len(comparison) > 1
        else None,
    }
    return render(request, "analytics/dashboard.html", context, status=form.status)


FORECAST_PAST = dt.timedelta(hours=48)
FORECAST_AHEAD = dt.timedelta(hours=72)


def _forecast_subject(request: HttpRequest, subjects: list[ForecastSubject]) -> ForecastSubject | None:
    """The subject chosen with ?forecast=<kind>-<id> among those the user may see, else the first one."""
    chosen = request.GET.get("forecast", "")
    for subject in subjects:
        if subject.key == chosen:
            return subject
    return subjects[0] if subjects else None


def _forecast_points(request: HttpRequest, subject: ForecastSubject | None, now: dt.datetime) -> list:
    if subject is None:
        return []
    return forecast_series_for_user(
        user=request.user, subject=subject, start=now - FORECAST_PAST, end=now + FORECAST_AHEAD
    )


@login_required
def dashboard_forecast_csv(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    subject = _forecast_subject(request, forecast_subjects_for_user(user=request.user))
    points = _forecast_points(request, subject, timezone.now())
    return csv_response(
        filename=f"forecast_{subject.key if subject else 'none'}.csv",
        actor=request.user,
        header=["subject", "hour", "forecast_kwh", "lower_kwh", "upper_kwh", "actual_kwh"],
        rows=(
            [
                subject.label if subject else "",
                local_iso(p.target),
                round(p.yhat, 3),
                round(p.lower, 3),
                round(p.upper, 3),
                "" if p.actual is None else round(p.actual, 3),
            ]
            for p in points
        ),
    )


@login_required
def dashboard_risks_csv(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    return csv_response(
        filename="transformer_risk.csv",
        actor=request.user,
        header=["transformer", "name", "probability", "computed_at", "top_factors"],
        rows=(
            [r.code, r.name, round(r.probability, 4), local_iso(r.computed_at), "; ".join(r.factors)]
            for r in transformer_risk_rows_for_user(user=request.user)
        ),
    )


@login_required
def dashboard_segments_csv(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    return csv_response(
        filename="segments.csv",
        actor=request.user,
        header=["segment", "name", "customers", "recommendation", "expected_saving_pct"],
        rows=(
            [
                r.code,
                r.name,
                r.customers,
                r.recommendation,
                "" if r.expected_saving_pct is None else r.expected_saving_pct,
            ]
            for r in segment_rows_for_user(user=request.user)
        ),
    )


@login_required
def dashboard_alerts_csv(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    return csv_response(
        filename="alert_queue.csv",
        actor=request.user,
        header=["id", "severity", "kind", "title", "hostel", "room", "last_seen_at", "occurrences"],
        rows=(
            [
                a.pk,
                a.severity,
                a.kind,
                a.title,
                a.hostel.name if a.hostel else "",
                a.room.number if a.room else "",
                local_iso(a.last_seen_at),
                a.occurrences,
            ]
            for a in alert_queue_for_user(user=request.user, limit=1000)
        ),
    )


@login_required
def dashboard_hostels_csv(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    form = DateRangeForm(request.GET or None)
    if form.status == 400:
        return _bad_range(form)
    period = form.period()
    rows = hostel_comparison_for_user(user=request.user, period=period)
    return csv_response(
        filename=f"hostels_{period.start}_{period.end}.csv",
        actor=request.user,
        header=[
            "hostel",
            "kwh",
            "cost",
            "currency",
            "occupied_beds",
            "beds",
            "kwh_per_occupied_bed_day",
            "kwh_weather_normalized",
            "kwh_per_occupied_bed_day_weather_normalized",
            "kg_co2",
        ],
        rows=(
            [
                r.name,
                round(r.kwh, 3),
                round(r.cost, 2),
                r.currency,
                r.occupied_beds,
                r.beds,
                _kwh(r.kwh_per_occupied_bed_day),
                _kwh(r.kwh_weather_normalized),
                _kwh(r.kwh_per_occupied_bed_day_weather),
                _kwh(r.carbon_kg),
            ]
            for r in rows
        ),
    )
