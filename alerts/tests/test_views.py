"""The inbox and detail pages: scoped, actions by POST with CSRF, and the header badge."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from alerts import services
from alerts.models import Alert
from conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts(campus: Any) -> tuple[Alert, Alert]:
    a = services.alert_raise(kind="anomaly", title="A-101 night load", meter=campus.meter_a, score=0.9)
    b = services.alert_raise(kind="stale_meter", title="B-101 silent", meter=campus.meter_b)
    return a, b


def test_anonymous_visitor_is_sent_to_login(alerts: tuple[Alert, Alert], client: Client) -> None:
    assert client.get(reverse("alert-inbox")).status_code == 302


def test_warden_inbox_shows_own_hostel_alerts_only(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    body = client_for(warden_a).get(reverse("alert-inbox")).content.decode()
    assert "A-101 night load" in body
    assert "B-101 silent" not in body


def test_manager_inbox_filters_by_hostel_and_severity(alerts: tuple[Alert, Alert], manager: Any, campus: Any) -> None:
    client = client_for(manager)
    body = client.get(reverse("alert-inbox"), {"hostel": campus.hostel_b.pk}).content.decode()
    assert "B-101 silent" in body
    assert "A-101 night load" not in body
    body = client.get(reverse("alert-inbox"), {"severity": "high"}).content.decode()
    assert "A-101 night load" in body
    assert "B-101 silent" not in body


def test_warden_gets_404_for_another_hostels_alert_page_and_actions(alerts: tuple[Alert, Alert], warden_b: Any) -> None:
    client = client_for(warden_b)
    pk = alerts[0].pk
    assert client.get(reverse("alert-detail", args=[pk])).status_code == 404
    assert client.post(reverse("alert-action", args=[pk, "acknowledge"])).status_code == 404
    alerts[0].refresh_from_db()
    assert alerts[0].status == "open"


def test_detail_page_shows_the_audit_trail_and_comments(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    client = client_for(warden_a)
    pk = alerts[0].pk
    client.post(reverse("alert-action", args=[pk, "comment"]), {"body": "Called the student"})
    body = client.get(reverse("alert-detail", args=[pk])).content.decode()
    assert "Called the student" in body
    assert "Audit trail" in body
    assert "Commented" in body


def test_actions_need_a_csrf_token(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(warden_a)
    assert client.post(reverse("alert-action", args=[alerts[0].pk, "resolve"])).status_code == 403


def test_buttons_acknowledge_snooze_feedback_and_resolve(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    client = client_for(warden_a)
    alert = alerts[0]
    inbox = reverse("alert-inbox") + "?status=all"
    response = client.post(reverse("alert-action", args=[alert.pk, "acknowledge"]), {"next": inbox})
    assert response.status_code == 302
    assert response["Location"] == inbox
    client.post(reverse("alert-action", args=[alert.pk, "snooze"]), {"minutes": "60"})
    client.post(reverse("alert-action", args=[alert.pk, "feedback"]), {"true_alarm": "false"})
    client.post(reverse("alert-action", args=[alert.pk, "resolve"]))
    alert.refresh_from_db()
    assert (alert.status, alert.is_true_alarm) == ("resolved", False)
    assert [e.action for e in alert.events.all()] == ["raised", "acknowledged", "snoozed", "feedback", "resolved"]


def test_manager_assigns_an_alert_to_a_warden_of_its_hostel_only(
    alerts: tuple[Alert, Alert], manager: Any, warden_a: Any, warden_b: Any
) -> None:
    client = client_for(manager)
    page = client.get(reverse("alert-detail", args=[alerts[0].pk])).content.decode()
    assert "warden_a" in page
    assert "warden_b" not in page
    client.post(reverse("alert-action", args=[alerts[0].pk, "assign"]), {"assignee": str(warden_b.pk)})
    alerts[0].refresh_from_db()
    assert alerts[0].assigned_to is None
    client.post(reverse("alert-action", args=[alerts[0].pk, "assign"]), {"assignee": str(warden_a.pk)})
    alerts[0].refresh_from_db()
    assert alerts[0].assigned_to == warden_a


def test_inbox_rows_have_a_comment_form(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    client = client_for(warden_a)
    body = client.get(reverse("alert-inbox")).content.decode()
    assert reverse("alert-action", args=[alerts[0].pk, "comment"]) in body
    client.post(reverse("alert-action", args=[alerts[0].pk, "comment"]), {"body": "Checked, radiator on"})
    assert alerts[0].comments.get().body == "Checked, radiator on"


def test_an_offsite_next_url_is_ignored(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    response = client_for(warden_a).post(
        reverse("alert-action", args=[alerts[0].pk, "acknowledge"]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("alert-detail", args=[alerts[0].pk])


def test_header_badge_counts_open_alerts_in_scope(alerts: tuple[Alert, Alert], warden_a: Any, manager: Any) -> None:
    assert 'id="open-alerts" data-count="1"' in client_for(warden_a).get(reverse("home")).content.decode()
    assert 'id="open-alerts" data-count="2"' in client_for(manager).get(reverse("home")).content.decode()
    last = alerts[1].events.get().pk
    assert f'data-cursor="{last}"' in client_for(manager).get(reverse("home")).content.decode()


def test_inbox_query_count_does_not_grow_with_alerts(
    campus: Any, manager: Any, django_assert_max_num_queries: Any
) -> None:
    from meters.tests.factories import MeterFactory, RoomFactory

    for index in range(15):
        meter = MeterFactory.create(room=RoomFactory.create(hostel=campus.hostel_a, number=f"Q{index}"))
        alert = services.alert_raise(kind="anomaly", title=f"alert {index}", meter=meter)
        services.alert_assign(alert=alert, user=manager, assignee=manager)
    client = client_for(manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("alert-inbox"))
    assert response.status_code == 200
    assert "alert 14" in response.content.decode()


def test_detail_page_query_count_does_not_grow_with_comments(
    alerts: tuple[Alert, Alert], manager: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(10):
        services.alert_comment(alert=alerts[0], user=manager, body=f"note {index}")
    client = client_for(manager)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("alert-detail", args=[alerts[0].pk]))
    assert "note 9" in response.content.decode()


def test_false_alarm_button_resolves_the_alert_and_says_so(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    client = client_for(warden_a)
    alert = alerts[0]
    inbox = reverse("alert-inbox")
    assert 'data-count="1"' in client.get(inbox).content.decode()
    response = client.post(
        reverse("alert-action", args=[alert.pk, "feedback"]), {"true_alarm": "false", "next": inbox}, follow=True
    )
    body = response.content.decode()
    assert f"Alert #{alert.pk} marked a false alarm and resolved" in body
    assert "A-101 night load" not in body  # the inbox lists what needs attention
    assert 'data-count="0"' in body  # the header badge
    alert.refresh_from_db()
    assert (alert.status, alert.is_true_alarm, alert.resolved_by) == ("resolved", False, warden_a)


def test_true_alarm_button_keeps_the_alert_open(alerts: tuple[Alert, Alert], warden_a: Any) -> None:
    client = client_for(warden_a)
    alert = alerts[0]
    response = client.post(reverse("alert-action", args=[alert.pk, "feedback"]), {"true_alarm": "true"}, follow=True)
    assert f"Alert #{alert.pk} marked a true alarm" in response.content.decode()
    alert.refresh_from_db()
    assert (alert.status, alert.is_true_alarm) == ("open", True)
