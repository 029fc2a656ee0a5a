"""The smaller holes: headers, error bodies, file names, figure labels, snooze bounds, DST words."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client

from alerts.services import alert_raise
from conftest import Campus, client_for
from meters.ingest import readings_ingest


@pytest.mark.django_db
def test_snooze_until_is_bounded_like_minutes(campus: Campus, warden_a: Any) -> None:
    alert = alert_raise(kind="manual", title="Snooze probe", hostel=campus.hostel_a)
    client = client_for(warden_a)
    url = f"/api/v1/alerts/{alert.pk}/snooze"
    for until in ("2999-01-01T00:00:00Z", (dt.datetime.now(dt.UTC) + dt.timedelta(days=8)).isoformat()):
        response = client.post(url, data=json.dumps({"until": until}), content_type="application/json")
        assert response.status_code == 400, until
        assert "7 days" in json.dumps(response.json())
    alert.refresh_from_db()
    assert alert.snoozed_until is None
    fine = (dt.datetime.now(dt.UTC) + dt.timedelta(days=6)).isoformat()
    assert client.post(url, data=json.dumps({"until": fine}), content_type="application/json").status_code == 200


@pytest.mark.django_db
def test_snoozing_past_seven_days_is_refused_by_the_service_whatever_the_caller(campus: Campus, warden_a: Any) -> None:
    from alerts.services import AlertTransitionError, alert_snooze

    alert = alert_raise(kind="manual", title="Snooze probe", hostel=campus.hostel_a)
    with pytest.raises(AlertTransitionError, match="7 days"):
        alert_snooze(alert=alert, user=warden_a, until=dt.datetime.now(dt.UTC) + dt.timedelta(days=30))


@pytest.mark.django_db
def test_a_dst_ambiguous_local_time_is_called_ambiguous_and_a_skipped_one_nonexistent(campus: Campus) -> None:
    rows = [
        {"meter": "RM-A-101", "timestamp": "2025-10-26T01:30:00", "kwh": 0.1},  # London: the clock went back
        {"meter": "RM-A-101", "timestamp": "2025-03-30T01:30:00", "kwh": 0.1},  # London: the clock went forward
        {"meter": "RM-A-101", "timestamp": "2025-03-31T01:30:00", "kwh": 0.1},
        {"meter": "RM-A-101", "timestamp": "not a time", "kwh": 0.1},
    ]
    result = readings_ingest(rows=rows, source="dst", timezone_name="Europe/London")
    reasons = {rejection.row: rejection.reason for rejection in result.rejections}
    assert "ambiguous" in reasons[0]
    assert "does not exist" in reasons[1]
    assert 2 not in reasons
    assert "unparseable" in reasons[3]


HOSTILE_NAME = '<a href="javascript:alert(1)">x</a>"; filename=evil.exe\r\nX-Evil: 1'


@pytest.mark.django_db
def test_export_file_names_built_from_admin_set_names_are_escaped(campus: Campus, manager: Any) -> None:
    from meters.models import Room

    Room.objects.filter(pk=campus.room_a.pk).update(number='A"1;\r\nX-Evil: 1/../é')
    response = client_for(manager).get(f"/rooms/{campus.room_a.pk}/hours.csv")
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert "\r" not in header
    assert "\n" not in header
    assert "X-Evil" not in response.headers
    assert header.startswith("attachment; filename")
    assert "/" not in header
    assert "%2F" not in header  # no path separator, even encoded


def test_plotly_labels_built_from_admin_set_names_are_escaped() -> None:
    from analytics import figures

    figure = figures.daily_consumption_figure([{"day": "2025-01-01", "hostel": HOSTILE_NAME, "kwh": 1.0}])
    text = json.dumps(figure.to_plotly_json(), default=str)
    assert "<a href" not in text
    assert "&lt;a href" in text
    hours = figures.room_hours_figure([], [], title=f"Room {HOSTILE_NAME}", zone=dt.UTC)
    assert "<a href" not in json.dumps(hours.to_plotly_json(), default=str)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.forged-signature"]
)
def test_jwt_errors_come_in_the_standard_error_body_not_a_python_repr(campus: Campus, token: str) -> None:
    response = Client().get("/api/v1/alerts", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "token_not_valid"
    assert isinstance(error["message"], str)
    for python in ("{", "ErrorDetail", "'detail'"):
        assert python not in error["message"]


@pytest.mark.django_db
def test_an_oversized_body_on_any_api_endpoint_gets_a_413_in_json(settings: Any, campus: Campus, warden_a: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    alert = alert_raise(kind="manual", title="Big body", hostel=campus.hostel_a)
    client = client_for(warden_a)
    big = json.dumps({"body": "x" * 5000})
    response = client.post(f"/api/v1/alerts/{alert.pk}/comment", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    form = client.post(f"/api/v1/alerts/{alert.pk}/comment", data={"body": "x" * 5000})
    assert form.status_code == 413
    assert form.json()["error"]["code"] == "too_large"


def test_no_template_runs_inline_script_or_inline_event_handlers() -> None:
    """What the Content-Security-Policy's script-src 'self' would block: nothing of ours may need it."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text, flags=re.I):
            assert "src=" in tag or 'type="application/json"' in tag, f"{template.name}: inline script {tag}"
        assert not re.search(r"\son[a-z]+\s*=", text, flags=re.I), f"{template.name}: inline event handler"


@pytest.mark.django_db
def test_every_page_sends_a_content_security_policy_without_unsafe_inline_scripts(campus: Campus, manager: Any) -> None:
    client = client_for(manager)
    for path in ("/", "/dashboard/", f"/hostels/{campus.hostel_a.pk}/", f"/rooms/{campus.room_a.pk}/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'", path
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        body = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", body, flags=re.I):
            assert "src=" in tag or 'type="application/json"' in tag, f"{path}: inline script {tag}"
    assert client.get("/api/docs/?script").status_code == 200  # Swagger UI's set-up, as a file of its own


@pytest.mark.django_db
def test_signed_in_pages_and_api_answers_are_private_and_not_stored(campus: Campus, manager: Any) -> None:
    client = client_for(manager)
    for path in ("/", "/dashboard/", "/api/v1/alerts", "/dashboard/hostels.csv"):
        cache_control = client.get(path)["Cache-Control"]
        assert "private" in cache_control, path
        assert "no-store" in cache_control, path
    anonymous = Client().get("/api/v1/alerts")
    assert anonymous.status_code == 401
    assert "no-store" in anonymous["Cache-Control"]
