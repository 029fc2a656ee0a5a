"""Each person's notification settings: what reaches them, by which channel, when; scope and the settings page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts import services
from alerts.models import (
    DailySummary,
    EmailDelivery,
    EscalationPolicy,
    NotificationPreference,
    PushDelivery,
    PushSubscription,
    SummaryEntry,
)
from alerts.services.notifications import deliveries_requeue_pending, deliveries_send_held
from alerts.services.preferences import notification_preference_update
from alerts.services.summaries import daily_summaries_due
from conftest import client_for

T0 = dt.datetime(2025, 3, 3, 22, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


def raise_alert(campus: Any, *, meter: Any = None, kind: str = "anomaly", score: float = 0.9, key: str = "") -> Any:
    meter = meter or campus.meter_a
    return services.alert_raise(
        kind=kind,
        title=f"Heater left on in {meter.room.number}",
        explanation="3.9 kWh overnight; expected 1.1 kWh.",
        meter=meter,
        score=score,
        at=T0,
        dedupe_key=key or None,
    )


def choose(user: Any, **changes: Any) -> NotificationPreference:
    """Save settings through the service, as the page does: the defaults with `changes`."""
    choices: dict[str, Any] = {
        "email": True,
        "push": True,
        "hostels": [],
        "kinds": [],
        "min_severity": "low",
        "quiet_start": None,
        "quiet_end": None,
        "critical_breaks_quiet": True,
        "daily_summary": False,
        "summary_at": dt.time(8, 0),
        "time_zone": "UTC",
    }
    return notification_preference_update(user=user, **{**choices, **changes})


@pytest.fixture
def mailed_warden(campus: Any, warden_a: Any) -> Any:
    warden_a.email = "a@example.org"
    warden_a.save()
    return warden_a


def test_a_warden_of_two_hostels_who_chose_one_hears_only_of_that_one(
    campus: Any, mailed_warden: Any, eager_celery: None, on_commit: Any
) -> None:
    campus.hostel_b.wardens.add(mailed_warden)
    choose(mailed_warden, hostels=[campus.hostel_b])
    with on_commit():
        raise_alert(campus)  # Hostel A
        raise_alert(campus, meter=campus.meter_b)
    assert [message.subject for message in mail.outbox] == ["[Wattwatch High] Heater left on in B-101 · Hostel B"]


def test_kinds_and_severity_filter_what_is_sent(
    campus: Any, mailed_warden: Any, eager_celery: None, on_commit: Any
) -> None:
    choose(mailed_warden, kinds=["stale_meter", "main_imbalance"])
    with on_commit():
        raise_alert(campus)
    assert mail.outbox == []
    choose(mailed_warden, min_severity="critical")
    with on_commit():
        raise_alert(campus, key="high-one")  # high: below the chosen minimum
    assert mail.outbox == []
    with on_commit():
        raise_alert(campus, score=0.99, key="critical-one")
    assert len(mail.outbox) == 1
    assert "Critical" in mail.outbox[0].subject


def test_push_only_sends_no_email_and_email_only_pushes_nothing(
    campus: Any, mailed_warden: Any, on_commit: Any
) -> None:
    PushSubscription.objects.create(
        user=mailed_warden, endpoint="https://push.example.org/d1", p256dh="B" * 87, auth="A" * 22
    )
    choose(mailed_warden, email=False, push=True)
    raise_alert(campus)
    assert (EmailDelivery.objects.count(), PushDelivery.objects.count()) == (0, 1)
    choose(mailed_warden, email=True, push=False)
    raise_alert(campus, key="second")
    assert (EmailDelivery.objects.count(), PushDelivery.objects.count()) == (1, 1)


def quiet_around(now: dt.datetime) -> dict[str, Any]:
    """Quiet hours from an hour ago to an hour from now (UTC), whatever the time the test runs."""
    return {
        "quiet_start": (now - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0),
        "quiet_end": (now + dt.timedelta(hours=1)).time().replace(second=0, microsecond=0),
    }


def test_quiet_hours_hold_messages_until_they_end(
    campus: Any, mailed_warden: Any, eager_celery: None, on_commit: Any
) -> None:
    now = timezone.now()
    choose(mailed_warden, **quiet_around(now))
    with on_commit():
        raise_alert(campus)
    assert mail.outbox == []
    held = EmailDelivery.objects.get()
    assert held.status == "pending"
    assert held.not_before is not None
    assert dt.timedelta(minutes=58) < held.not_before - now <= dt.timedelta(hours=1)
    assert deliveries_requeue_pending(older_than=dt.timedelta(0)) == 0  # the sweep leaves it alone
    with on_commit():
        assert deliveries_send_held(now=now + dt.timedelta(minutes=30)) == 0
    assert mail.outbox == []
    with on_commit():
        assert deliveries_send_held(now=held.not_before) == 1
    assert len(mail.outbox) == 1
    held.refresh_from_db()
    assert (held.status, held.not_before) == ("sent", None)


def test_a_critical_alert_passes_quiet_hours_unless_the_person_said_otherwise(
    campus: Any, mailed_warden: Any, eager_celery: None, on_commit: Any
) -> None:
    now = timezone.now()
    choose(mailed_warden, **quiet_around(now))
    with on_commit():
        raise_alert(campus, score=0.99)
    assert len(mail.outbox) == 1
    choose(mailed_warden, **quiet_around(now), critical_breaks_quiet=False)
    with on_commit():
        raise_alert(campus, score=0.99, key="held-critical")
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.filter(not_before__isnull=False).count() == 1


@pytest.mark.parametrize(
    ("start", "end", "local", "until"),
    [
        ("22:00", "07:00", "2025-03-03 23:30", "2025-03-04 07:00"),  # past midnight, before it
        ("22:00", "07:00", "2025-03-04 06:59", "2025-03-04 07:00"),  # past midnight, after it
        ("22:00", "07:00", "2025-03-04 07:00", None),
        ("12:00", "14:00", "2025-03-04 13:00", "2025-03-04 14:00"),
        ("12:00", "14:00", "2025-03-04 11:59", None),
        ("00:30", "03:30", "2025-03-30 00:45", "2025-03-30 03:30"),  # the night the clocks go forward
    ],
)
def test_quiet_hours_are_read_in_the_persons_time_zone(start: str, end: str, local: str, until: str | None) -> None:
    pref = NotificationPreference(
        quiet_start=dt.time.fromisoformat(start), quiet_end=dt.time.fromisoformat(end), time_zone="Europe/London"
    )
    at = dt.datetime.fromisoformat(local).replace(tzinfo=pref.tz)
    expected = dt.datetime.fromisoformat(until).replace(tzinfo=pref.tz) if until else None
    assert pref.quiet_until(at) == expected


def test_a_daily_summary_batches_the_days_alerts_into_one_message(
    campus: Any, mailed_warden: Any, eager_celery: None, on_commit: Any
) -> None:
    choose(mailed_warden, daily_summary=True, summary_at=dt.time(8, 0), time_zone="Europe/London")
    with on_commit():
        first = raise_alert(campus)
        second = raise_alert(campus, kind="stale_meter", key="silent")
    assert mail.outbox == []
    assert SummaryEntry.objects.count() == 2
    before = dt.datetime(2025, 3, 4, 7, 55, tzinfo=dt.UTC)
    with on_commit():
        assert daily_summaries_due(now=before) == 0
    at_eight = dt.datetime(2025, 3, 4, 8, 2, tzinfo=dt.UTC)
    with on_commit():
        assert daily_summaries_due(now=at_eight) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Wattwatch daily summary: 2 alerts"
    assert f"#{first.pk} Heater left on in A-101" in message.body
    assert f"#{second.pk} Heater left on in A-101" in message.body
    summary = DailySummary.objects.get()
    assert (summary.day, summary.entries.count()) == (dt.date(2025, 3, 4), 2)
    assert summary.emailed_at is not None
    with on_commit():  # the same day again: nothing more
        assert daily_summaries_due(now=at_eight + dt.timedelta(hours=3)) == 0
    assert len(mail.outbox) == 1


def test_escalation_reaches_a_manager_who_filtered_the_hostel_out(
    campus: Any, warden_a: Any, manager: Any, eager_celery: None, on_commit: Any
) -> None:
    manager.email = "fm@example.org"
    manager.save()
    choose(manager, hostels=[campus.hostel_b], daily_summary=True)
    with on_commit():
        raise_alert(campus)
    with on_commit():
        assert services.alerts_escalate_due(now=T0 + dt.timedelta(hours=1)) == 1
    assert [m.to for m in mail.outbox] == [["fm@example.org"]]


def test_a_warden_cannot_choose_a_hostel_outside_their_scope(campus: Any, warden_a: Any) -> None:
    with pytest.raises(ValidationError, match="not among yours"):
        choose(warden_a, hostels=[campus.hostel_b])
    assert not NotificationPreference.objects.exists()
    client = client_for(warden_a)
    page = client.get("/alerts/settings/")
    assert page.status_code == 200
    assert "Hostel A" in page.content.decode()
    assert "Hostel B" not in page.content.decode()
    response = client.post(
        "/alerts/settings/",
        {
            "email": "on",
            "hostels": [campus.hostel_b.pk],
            "min_severity": "low",
            "summary_at": "08:00",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 400
    assert "is not one of the available choices" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_the_settings_page_saves_a_wardens_choices(campus: Any, warden_a: Any) -> None:
    client = client_for(warden_a)
    response = client.post(
        "/alerts/settings/",
        {
            "push": "on",
            "hostels": [campus.hostel_a.pk],
            "kinds": ["anomaly", "stale_meter"],
            "min_severity": "medium",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "daily_summary": "on",
            "summary_at": "18:30",
            "time_zone": "Europe/London",
        },
        follow=True,
    )
    assert "Your notification settings were saved." in response.content.decode()
    pref = NotificationPreference.objects.get(user=warden_a)
    assert (pref.email, pref.push, pref.min_severity, pref.daily_summary) == (False, True, "medium", True)
    assert pref.kinds == ["anomaly", "stale_meter"]
    assert list(pref.hostels.all()) == [campus.hostel_a]
    assert (pref.quiet_start, pref.quiet_end, pref.summary_at) == (dt.time(22), dt.time(7), dt.time(18, 30))
    assert pref.critical_breaks_quiet is False  # an unticked box
    half = client.post(
        "/alerts/settings/", {"quiet_start": "22:00", "min_severity": "low", "summary_at": "08:00", "time_zone": "UTC"}
    )
    assert half.status_code == 400
    assert "Give both the start and the end of quiet hours" in half.content.decode()


def test_someone_without_a_role_has_no_settings_page(nobody: Any) -> None:
    assert client_for(nobody).get("/alerts/settings/").status_code == 403


def test_managers_keep_the_escalation_policy_and_wardens_cannot_change_it(warden_a: Any, manager: Any) -> None:
    form = {"critical": 3, "high": 10, "medium": 45, "low": 120}
    assert client_for(warden_a).post("/alerts/settings/escalation", form).status_code == 403
    assert "Escalation policy" not in client_for(warden_a).get("/alerts/settings/").content.decode()
    assert not EscalationPolicy.objects.exists()
    client = client_for(manager)
    assert "Escalation policy" in client.get("/alerts/settings/").content.decode()
    assert client.post("/alerts/settings/escalation", form).status_code == 302
    assert dict(EscalationPolicy.objects.values_list("severity", "minutes")) == form
    assert services.escalation_minutes(severity="critical") == 3
    client.post("/alerts/settings/escalation", {**form, "low": 0})
    assert EscalationPolicy.objects.get(severity="low").minutes == 120


def test_the_api_reads_and_changes_a_wardens_settings_within_their_scope(campus: Any, warden_a: Any) -> None:
    client = client_for(warden_a)
    url = "/api/v1/me/notification-settings"
    defaults = client.get(url).json()
    assert defaults["email"] is True
    assert defaults["hostels"] == []
    assert defaults["daily_summary"] is False
    refused = client.patch(url, {"hostels": [campus.hostel_b.pk]}, content_type="application/json")
    assert refused.status_code == 400
    assert "hostels" in refused.json()["error"]["fields"]
    assert not NotificationPreference.objects.exists()
    changed = client.patch(
        url,
        {"hostels": [campus.hostel_a.pk], "kinds": ["anomaly"], "quiet_start": "22:00", "quiet_end": "07:00"},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["hostels"], body["kinds"], body["quiet_start"], body["email"]) == (
        [campus.hostel_a.pk],
        ["anomaly"],
        "22:00:00",
        True,
    )
    half = client.patch(url, {"quiet_end": None}, content_type="application/json")
    assert half.status_code == 400
    assert "quiet hours" in json.dumps(half.json())
    assert NotificationPreference.objects.get().quiet_end == dt.time(7)


def test_the_settings_api_needs_a_role(nobody: Any, client: Any) -> None:
    assert client.get("/api/v1/me/notification-settings").status_code == 401
    assert client_for(nobody).get("/api/v1/me/notification-settings").status_code == 403
