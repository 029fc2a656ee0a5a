"""Near-duplicates: an active alert absorbs findings of its meter and kind for ALERT_GROUP_HOURS, quietly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from alerts import services
from alerts.models import Alert, AlertEvent
from conftest import client_for

T0 = dt.datetime(2025, 3, 3, 22, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


def finding(campus: Any, n: int, *, hours: float = 0.0, score: float = 0.7, kind: str = "anomaly") -> Alert:
    """The n-th incident on room A-101's meter, each with its own dedupe key as detection hands them over."""
    start = T0 + dt.timedelta(hours=hours)
    return services.alert_raise(
        kind=kind,
        title=f"Sustained excess on RM-A-101 (incident {n})",
        meter=campus.meter_a,
        score=score,
        dedupe_key=f"{kind}:{campus.meter_a.pk}:sustained_excess:{n}",
        group_key=f"{kind}:meter:{campus.meter_a.pk}:sustained_excess",
        event_start=start,
        event_end=start + dt.timedelta(hours=2),
        at=start + dt.timedelta(hours=2, minutes=5),
    )


@pytest.fixture
def warden_with_email(warden_a: Any) -> Any:
    warden_a.email = "a@example.org"
    warden_a.save()
    return warden_a


def test_a_second_finding_on_the_same_meter_and_kind_within_the_window_is_counted_not_notified(
    campus: Any, warden_with_email: Any, eager_celery: None, on_commit: Any
) -> None:
    with on_commit():
        first = finding(campus, 1)
    with on_commit():
        second = finding(campus, 2, hours=6)
    assert second.pk == first.pk
    assert Alert.objects.count() == 1
    second.refresh_from_db()
    assert second.occurrences == 2
    assert second.last_seen_at == T0 + dt.timedelta(hours=8, minutes=5)
    assert (second.event_start, second.event_end) == (T0, T0 + dt.timedelta(hours=8))
    assert len(mail.outbox) == 1
    assert list(second.events.values_list("action", flat=True)) == ["raised", "repeated"]


def test_a_finding_after_the_window_opens_a_new_alert(campus: Any) -> None:
    first = finding(campus, 1)
    later = finding(campus, 2, hours=25)
    assert later.pk != first.pk
    assert Alert.objects.filter(status="open").count() == 2


@override_settings(ALERT_GROUP_HOURS=48)
def test_the_window_is_a_setting(campus: Any) -> None:
    assert finding(campus, 2, hours=25).pk == finding(campus, 1).pk


def test_after_resolve_a_new_finding_opens_a_new_alert(campus: Any, warden_a: Any) -> None:
    first = finding(campus, 1)
    services.alert_resolve(alert=first, user=warden_a, at=T0 + dt.timedelta(hours=3))
    again = finding(campus, 2, hours=4)
    assert again.pk != first.pk
    assert again.occurrences == 1


def test_another_kind_or_meter_is_not_absorbed(campus: Any) -> None:
    first = finding(campus, 1)
    assert finding(campus, 2, hours=1, kind="stale_meter").pk != first.pk
    other = services.alert_raise(
        kind="anomaly",
        title="B-101",
        meter=campus.meter_b,
        dedupe_key="anomaly:b:1",
        group_key=f"anomaly:meter:{campus.meter_b.pk}:sustained_excess",
        event_start=T0,
        at=T0,
    )
    assert other.pk != first.pk


def test_findings_raised_without_a_group_key_are_never_grouped(campus: Any) -> None:
    first = services.alert_raise(kind="manual", title="one", meter=campus.meter_a, dedupe_key="manual:1", at=T0)
    second = services.alert_raise(kind="manual", title="two", meter=campus.meter_a, dedupe_key="manual:2", at=T0)
    assert second.pk != first.pk


def test_a_more_severe_finding_updates_the_alert_and_notifies_once(
    campus: Any, warden_with_email: Any, eager_celery: None, on_commit: Any
) -> None:
    with on_commit():
        alert = finding(campus, 1, score=0.7)
    with on_commit():
        finding(campus, 2, hours=2, score=0.97)
    with on_commit():
        finding(campus, 3, hours=4, score=0.97)
    alert.refresh_from_db()
    assert (alert.severity, alert.occurrences) == ("critical", 3)
    assert [m.subject for m in mail.outbox] == [
        "[Wattwatch Medium] Sustained excess on RM-A-101 (incident 1) · Hostel A",
        "[Wattwatch Critical] Worse: Sustained excess on RM-A-101 (incident 2) · Hostel A",
    ]
    assert list(alert.events.values_list("action", flat=True)) == ["raised", "worsened", "repeated"]


def test_a_bad_event_span_is_refused(campus: Any) -> None:
    with pytest.raises(ValueError, match="end before it starts"):
        services.alert_raise(
            kind="anomaly", title="x", meter=campus.meter_a, event_start=T0, event_end=T0 - dt.timedelta(hours=1)
        )


def test_inbox_and_page_say_how_often_and_when_last_seen(campus: Any, warden_a: Any) -> None:
    alert = finding(campus, 1)
    for n in (2, 3):
        finding(campus, n, hours=2 * n)
    # The last finding was raised at 06:05 UTC, 07:05 in Madrid (the test site's zone).
    inbox = client_for(warden_a).get(reverse("alert-inbox")).content.decode()
    assert "seen 3 times, last Tue 4 Mar 2025 07:05 CET" in inbox
    page = client_for(warden_a).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert "3 times, last Tue 4 Mar 2025 07:05 CET" in page
    assert AlertEvent.objects.filter(alert=alert, action="repeated").count() == 2
