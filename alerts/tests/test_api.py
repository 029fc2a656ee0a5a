"""The alerts API for every persona: scoped lists, 404 for other hostels, actions through services."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from alerts import services
from alerts.api import serializers as s
from alerts.models import Alert
from conftest import assert_fast_list_is_the_serializers

pytestmark = pytest.mark.django_db


def api_for(user: Any | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def alerts(campus: Any) -> tuple[Alert, Alert]:
    a = services.alert_raise(kind="anomaly", title="A-101 night load", meter=campus.meter_a, score=0.9)
    b = services.alert_raise(kind="stale_meter", title="B-101 silent", meter=campus.meter_b)
    return a, b


def test_anonymous_visitor_cannot_list_or_act(alerts: tuple[Alert, Alert]) -> None:
    client = api_for(None)
    assert client.get("/api/v1/alerts").status_code in (401, 403)
    assert client.put(f"/api/v1/alerts/{alerts[0].pk}/resolve").status_code in (401, 403)


def test_user_without_a_role_is_refused(alerts: tuple[Alert, Alert], nobody: Any) -> None:
    assert api_for(nobody).get("/api/v1/alerts").status_code == 403


def test_warden_lists_only_own_hostels_alerts(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    body = api_for(warden_a).get("/api/v1/alerts").json()
    assert [row["id"] for row in body["results"]] == [alerts[0].pk]
    assert body["results"][0]["hostel_name"] == "Hostel A"


def test_manager_and_admin_list_every_alert(alerts: tuple[Alert, Alert], manager: Any, admin: Any) -> None:
    for user in (manager, admin):
        assert api_for(user).get("/api/v1/alerts").json()["count"] == 2


def test_warden_b_cannot_see_or_act_on_hostel_a_alerts(alerts: tuple[Alert, Alert], warden_b: Any) -> None:
    client = api_for(warden_b)
    pk = alerts[0].pk
    assert client.get(f"/api/v1/alerts/{pk}").status_code == 404
    assert client.put(f"/api/v1/alerts/{pk}/resolve", {}, format="json").status_code == 404
    for name, body in [
        ("acknowledge", {}),
        ("snooze", {"minutes": 60}),
        ("comment", {"body": "x"}),
        ("feedback", {"true_alarm": False}),
        ("assign", {"assignee": "warden_b"}),
    ]:
        assert client.post(f"/api/v1/alerts/{pk}/{name}", body, format="json").status_code == 404, name
    alerts[0].refresh_from_db()
    assert alerts[0].status == "open"
    assert alerts[0].events.count() == 1


def test_filters_by_status_severity_kind_hostel_and_since(alerts: tuple[Alert, Alert], manager: Any) -> None:
    client = api_for(manager)
    a, b = alerts

    def ids(query: str) -> list[int]:
        return [row["id"] for row in client.get(f"/api/v1/alerts?{query}").json()["results"]]

    assert ids(f"hostel={a.hostel_id}") == [a.pk]
    assert ids("kind=stale_meter") == [b.pk]
    assert ids("severity=high") == [a.pk]
    assert ids("status=resolved") == []
    assert sorted(ids("since=2000-01-01T00:00:00Z")) == sorted([a.pk, b.pk])
    assert ids("since=2999-01-01T00:00:00Z") == []
    assert ids("ordering=id") == [a.pk, b.pk]


def test_detail_has_the_audit_trail_and_comments(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    client = api_for(warden_a)
    pk = alerts[0].pk
    assert client.post(f"/api/v1/alerts/{pk}/comment", {"body": "On my way"}, format="json").status_code == 201
    body = client.get(f"/api/v1/alerts/{pk}").json()
    assert [event["action"] for event in body["events"]] == ["raised", "commented"]
    assert body["comments"][0]["author"] == "warden_a"


def test_warden_runs_the_lifecycle_of_own_alert_through_the_api(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    client = api_for(warden_a)
    pk = alerts[0].pk
    assert client.post(f"/api/v1/alerts/{pk}/acknowledge").json()["status"] == "acknowledged"
    assert client.post(f"/api/v1/alerts/{pk}/snooze", {"minutes": 30}, format="json").json()["status"] == "snoozed"
    assert client.post(f"/api/v1/alerts/{pk}/feedback", {"true_alarm": True}, format="json").json()["is_true_alarm"]
    assert client.post(f"/api/v1/alerts/{pk}/assign", {"assignee": "warden_a"}, format="json").status_code == 200
    response = client.put(f"/api/v1/alerts/{pk}/resolve", {"note": "Fixed"}, format="json")
    assert response.json()["status"] == "resolved"
    # A resolved alert cannot be acknowledged: a conflict, not a crash.
    assert client.post(f"/api/v1/alerts/{pk}/acknowledge").status_code == 409


def test_invalid_snooze_is_a_bad_request(alerts: tuple[Alert, Alert], manager: Any) -> None:
    response = api_for(manager).post(f"/api/v1/alerts/{alerts[0].pk}/snooze", {}, format="json")
    assert response.status_code == 400


def test_manual_alert_creation_is_for_staff_and_is_queued_for_the_worker(
    campus: Any, admin: Any, manager: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    body = {"title": "Smell of burning", "room": campus.room_a.pk, "dedupe_key": "manual:burning"}
    assert api_for(manager).post("/api/v1/alerts", body, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(admin).post("/api/v1/alerts", body, format="json")
    assert response.status_code == 202
    alert = Alert.objects.get(dedupe_key="manual:burning")
    assert (alert.kind, alert.hostel, alert.status) == ("manual", campus.hostel_a, "open")


def test_api_list_query_count_does_not_grow_with_alerts(
    campus: Any, manager: Any, django_assert_max_num_queries: Any
) -> None:
    from meters.tests.factories import MeterFactory, RoomFactory

    for index in range(15):
        meter = MeterFactory.create(room=RoomFactory.create(hostel=campus.hostel_a, number=f"Q{index}"))
        alert = services.alert_raise(kind="anomaly", title=f"alert {index}", meter=meter)
        services.alert_assign(alert=alert, user=manager, assignee=manager)
    client = api_for(manager)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/alerts").json()["count"] == 15


@pytest.mark.parametrize(
    "path", ["/api/v1/alerts", "/api/v1/alerts?ordering=severity", "/api/v1/alerts?status=open&page_size=2"]
)
def test_the_alert_list_from_rows_says_what_its_serializer_says(
    campus: Any, manager: Any, warden_a: Any, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt
    from decimal import Decimal

    from core.api import fastlist

    services.alert_raise(kind="anomaly", title="A-101 night", meter=campus.meter_a, score=0.87, excess_cost=2.4)
    services.alert_raise(kind="manual", title="Estate-wide", source_payload={"why": ["a", 1, None], "n": 1.5})
    acknowledged = services.alert_raise(kind="stale_meter", title="B-101 silent", meter=campus.meter_b)
    Alert.objects.filter(pk=acknowledged.pk).update(
        assigned_to=manager,
        acknowledged_at=dt.datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
        excess_cost=Decimal("12.3"),
        is_true_alarm=False,
    )
    services.alert_raise(kind="anomaly", title="A-102 day", room=campus.room_a, score=None)
    for user in (manager, warden_a):
        assert_fast_list_is_the_serializers(api_for(user), path, monkeypatch)
    rows = api_for(manager).get("/api/v1/alerts?page_size=10").json()["results"]
    assert {row["assigned_to"] for row in rows} == {None, manager.username}
    assert {row["excess_cost"] for row in rows} >= {"2.40", "12.30", None}
    assert fastlist.list_plan(s.AlertSerializer) is not None  # the list is rendered from rows, not instances


def test_false_alarm_through_the_api_resolves_and_true_alarm_keeps_open(
    alerts: tuple[Alert, Alert], warden_a: Any, manager: Any
) -> None:
    client = api_for(warden_a)
    first, _ = alerts
    second = services.alert_raise(kind="anomaly", title="A-101 again", meter=first.meter, dedupe_key="again")
    body = client.post(f"/api/v1/alerts/{first.pk}/feedback", {"true_alarm": False}, format="json").json()
    assert (body["status"], body["is_true_alarm"]) == ("resolved", False)
    body = client.post(f"/api/v1/alerts/{second.pk}/feedback", {"true_alarm": True}, format="json").json()
    assert (body["status"], body["is_true_alarm"]) == ("open", True)
    listed = client.get("/api/v1/alerts", {"status": "open"}).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["id"] for row in rows] == [second.pk]
