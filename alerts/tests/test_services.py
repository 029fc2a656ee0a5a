"""Raising, deduplication, the lifecycle and its audit, escalation, suppression and snoozing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from alerts import services
from alerts.models import Alert, AlertEvent, EscalationPolicy, SeverityRule, SuppressionWindow

T0 = dt.datetime(2025, 3, 3, 22, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


def raise_in_room_a(campus: Any, *, at: dt.datetime = T0, score: float | None = 0.7, **extra: Any) -> Alert:
    return services.alert_raise(
        kind="anomaly",
        title="Room A-101 uses twice its usual night energy",
        explanation="4.1 kWh expected 1.9 kWh",
        meter=campus.meter_a,
        score=score,
        dedupe_key=extra.pop("dedupe_key", "anomaly:room-a-101"),
        source_payload={"anomaly_id": 1, "expected_kwh": 1.9, "actual_kwh": 4.1},
        at=at,
        **extra,
    )


def actions(alert: Alert) -> list[tuple[str, str, str]]:
    return list(alert.events.order_by("id").values_list("action", "from_status", "to_status"))


def test_raising_opens_an_alert_in_the_meters_room_and_hostel_with_an_audit_row(campus: Any) -> None:
    alert = raise_in_room_a(campus)
    assert alert.status == Alert.Status.OPEN
    assert (alert.hostel, alert.room, alert.meter) == (campus.hostel_a, campus.room_a, campus.meter_a)
    assert alert.severity == "medium"
    assert alert.escalation_due_at == T0 + dt.timedelta(minutes=60)
    assert actions(alert) == [("raised", "", "open")]


def test_a_repeat_of_the_same_problem_updates_the_open_alert_instead_of_opening_another(campus: Any) -> None:
    first = raise_in_room_a(campus, score=0.65)
    again = raise_in_room_a(campus, at=T0 + dt.timedelta(minutes=15), score=0.97)
    assert again.pk == first.pk
    assert Alert.objects.count() == 1
    again.refresh_from_db()
    assert again.occurrences == 2
    assert again.last_seen_at == T0 + dt.timedelta(minutes=15)
    assert again.severity == "critical"
    # The sooner deadline of the higher severity applies.
    assert again.escalation_due_at == T0 + dt.timedelta(minutes=5)
    # More severe than before: recorded (and notified) as worse, not as a plain repeat.
    assert actions(again)[-1] == ("worsened", "open", "open")


def test_two_problems_reported_by_hand_in_the_same_room_are_two_alerts_and_a_double_submit_is_one(
    campus: Any,
) -> None:
    burning = services.alert_raise(kind="manual", title="Smell of burning", room=campus.room_a, at=T0)
    again = services.alert_raise(kind="manual", title="smell of burning ", room=campus.room_a, at=T0)
    leak = services.alert_raise(kind="manual", title="Water on the floor", room=campus.room_a, at=T0)
    assert again.pk == burning.pk
    assert leak.pk != burning.pk
    leak.refresh_from_db()
    assert (leak.title, leak.occurrences, actions(leak)) == ("Water on the floor", 1, [("raised", "", "open")])


def test_a_lower_score_on_repeat_never_lowers_the_severity(campus: Any) -> None:
    raise_in_room_a(campus, score=0.9)
    alert = raise_in_room_a(campus, at=T0 + dt.timedelta(minutes=1), score=0.1)
    assert alert.severity == "high"


def test_a_severity_ceiling_caps_the_rules_and_the_defaults_but_never_raises(campus: Any) -> None:
    SeverityRule.objects.create(kind="", min_score=0.5, severity="critical")
    capped = services.alert_raise(
        kind="anomaly", title="A", room=campus.room_a, score=0.9, severity_ceiling="medium", at=T0
    )
    low = services.alert_raise(kind="anomaly", title="B", room=campus.room_b, score=0.1, severity_ceiling="high", at=T0)
    assert (capped.severity, low.severity) == ("medium", "low")


def test_after_resolution_the_same_problem_opens_a_new_alert(campus: Any, warden_a: Any) -> None:
    first = raise_in_room_a(campus)
    services.alert_resolve(alert=first, user=warden_a, at=T0 + dt.timedelta(minutes=5))
    second = raise_in_room_a(campus, at=T0 + dt.timedelta(minutes=30))
    assert second.pk != first.pk
    assert second.status == Alert.Status.OPEN


def test_lifecycle_acknowledge_snooze_resolve_is_audited_with_who_and_when(campus: Any, warden_a: Any) -> None:
    alert = raise_in_room_a(campus)
    at = T0 + dt.timedelta(minutes=3)
    alert = services.alert_acknowledge(alert=alert, user=warden_a, at=at)
    assert (alert.status, alert.acknowledged_by, alert.acknowledged_at) == ("acknowledged", warden_a, at)
    alert = services.alert_snooze(alert=alert, user=warden_a, until=at + dt.timedelta(hours=1), at=at)
    assert alert.status == "snoozed"
    alert = services.alert_resolve(alert=alert, user=warden_a, note="Heater unplugged", at=at)
    assert alert.status == "resolved"
    assert alert.snoozed_until is None
    assert actions(alert) == [
        ("raised", "", "open"),
        ("acknowledged", "open", "acknowledged"),
        ("snoozed", "acknowledged", "snoozed"),
        ("resolved", "snoozed", "resolved"),
    ]
    rows = list(alert.events.exclude(action="raised"))
    assert {row.actor for row in rows} == {warden_a}
    assert rows[-1].detail == {"note": "Heater unplugged"}


def test_a_resolved_alert_cannot_be_acknowledged(campus: Any, manager: Any) -> None:
    alert = services.alert_resolve(alert=raise_in_room_a(campus), user=manager)
    with pytest.raises(services.AlertTransitionError):
        services.alert_acknowledge(alert=alert, user=manager)
    assert alert.events.count() == 2


def test_warden_cannot_acknowledge_other_hostels_alert(campus: Any, warden_b: Any) -> None:
    alert = raise_in_room_a(campus)
    with pytest.raises(PermissionDenied):
        services.alert_acknowledge(alert=alert, user=warden_b)
    with pytest.raises(PermissionDenied):
        services.alert_comment(alert=alert, user=warden_b, body="not mine")
    alert.refresh_from_db()
    assert alert.status == "open"
    assert alert.events.count() == 1


def test_user_without_a_role_cannot_act_on_any_alert(campus: Any, nobody: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.alert_resolve(alert=raise_in_room_a(campus), user=nobody)


def test_comments_feedback_and_assignment_are_audited(campus: Any, manager: Any, warden_a: Any) -> None:
    alert = raise_in_room_a(campus)
    comment = services.alert_comment(alert=alert, user=warden_a, body="  On my way  ")
    assert comment.body == "On my way"
    alert = services.alert_assign(alert=alert, user=manager, assignee=warden_a)
    assert alert.assigned_to == warden_a
    alert = services.alert_feedback(alert=alert, user=warden_a, true_alarm=False)
    assert (alert.is_true_alarm, alert.feedback_by) == (False, warden_a)
    assert [row[0] for row in actions(alert)] == ["raised", "commented", "assigned", "feedback", "resolved"]


def test_an_alert_cannot_be_assigned_to_a_warden_of_another_hostel(campus: Any, manager: Any, warden_b: Any) -> None:
    with pytest.raises(services.AlertTransitionError):
        services.alert_assign(alert=raise_in_room_a(campus), user=manager, assignee=warden_b)


def test_escalation_happens_only_after_the_deadline_of_the_severity(campus: Any, manager: Any) -> None:
    EscalationPolicy.objects.create(severity="medium", minutes=30)
    alert = raise_in_room_a(campus)
    assert services.alerts_escalate_due(now=T0 + dt.timedelta(minutes=29)) == 0
    assert services.alerts_escalate_due(now=T0 + dt.timedelta(minutes=30)) == 1
    alert.refresh_from_db()
    assert (alert.escalation_level, alert.escalated_at) == (1, T0 + dt.timedelta(minutes=30))
    assert actions(alert)[-1] == ("escalated", "open", "open")
    # Once escalated, it is not escalated again.
    assert services.alerts_escalate_due(now=T0 + dt.timedelta(hours=5)) == 0


def test_an_acknowledged_alert_is_not_escalated(campus: Any, warden_a: Any) -> None:
    alert = raise_in_room_a(campus)
    services.alert_acknowledge(alert=alert, user=warden_a, at=T0 + dt.timedelta(minutes=1))
    assert services.alerts_escalate_due(now=T0 + dt.timedelta(days=1)) == 0


def test_an_alert_in_a_maintenance_window_is_recorded_as_suppressed_and_not_pushed(campus: Any) -> None:
    SuppressionWindow.objects.create(
        hostel=campus.hostel_a, starts_at=T0 - dt.timedelta(hours=1), ends_at=T0 + dt.timedelta(hours=1)
    )
    alert = raise_in_room_a(campus)
    again = raise_in_room_a(campus, at=T0 + dt.timedelta(minutes=10))
    assert again.pk == alert.pk
    alert.refresh_from_db()
    assert alert.status == "suppressed"
    assert alert.occurrences == 2
    assert not alert.events.filter(pushed=True).exists()
    assert services.alerts_escalate_due(now=T0 + dt.timedelta(days=1)) == 0
    # After the window the same problem opens a normal alert.
    later = raise_in_room_a(campus, at=T0 + dt.timedelta(hours=2))
    assert later.pk != alert.pk
    assert later.status == "open"


def test_a_room_window_suppresses_only_that_room(campus: Any) -> None:
    from meters.tests.factories import MeterFactory, RoomFactory

    SuppressionWindow.objects.create(
        hostel=campus.hostel_a,
        room=campus.room_a,
        reason="vacation",
        starts_at=T0 - dt.timedelta(days=1),
        ends_at=T0 + dt.timedelta(days=1),
    )
    other_meter = MeterFactory.create(room=RoomFactory.create(hostel=campus.hostel_a, number="A-102"))
    assert raise_in_room_a(campus).status == "suppressed"
    other = services.alert_raise(kind="anomaly", title="A-102 high", meter=other_meter, at=T0)
    assert other.status == "open"


def test_a_snoozed_alert_reopens_when_the_snooze_ends(campus: Any, warden_a: Any) -> None:
    alert = raise_in_room_a(campus)
    until = T0 + dt.timedelta(hours=1)
    services.alert_snooze(alert=alert, user=warden_a, until=until, at=T0)
    assert services.alerts_unsnooze_due(now=until - dt.timedelta(seconds=1)) == 0
    assert services.alerts_unsnooze_due(now=until) == 1
    alert.refresh_from_db()
    assert (alert.status, alert.snoozed_until) == ("open", None)
    assert alert.escalation_due_at == until + dt.timedelta(minutes=60)
    assert actions(alert)[-1] == ("unsnoozed", "snoozed", "open")


def test_snoozing_into_the_past_is_refused(campus: Any, warden_a: Any) -> None:
    with pytest.raises(services.AlertTransitionError):
        services.alert_snooze(alert=raise_in_room_a(campus), user=warden_a, until=T0, at=T0)


def test_configured_severity_rules_replace_the_defaults() -> None:
    SeverityRule.objects.create(kind="stale_meter", min_score=0.1, severity="critical")
    SeverityRule.objects.create(kind="", min_excess_cost=Decimal(50), severity="high")
    assert services.severity_for(kind="stale_meter", score=0.2, excess_cost=None) == "critical"
    assert services.severity_for(kind="anomaly", score=0.99, excess_cost=Decimal(60)) == "high"
    assert services.severity_for(kind="anomaly", score=0.99, excess_cost=None) == "low"


def test_default_severity_grows_with_score_cost_and_kind() -> None:
    assert services.severity_for(kind="anomaly", score=0.1, excess_cost=None) == "low"
    assert services.severity_for(kind="anomaly", score=0.85, excess_cost=None) == "high"
    assert services.severity_for(kind="anomaly", score=0.1, excess_cost=150) == "critical"
    assert services.severity_for(kind="transformer_capacity", score=None, excess_cost=None) == "high"


def test_alerts_without_a_hostel_are_visible_to_managers_only(campus: Any, manager: Any, warden_a: Any) -> None:
    alert = services.alert_raise(kind="model_unfit", title="Forecast model drifted", at=T0)
    assert alert.hostel is None
    assert Alert.objects.visible_to(manager).filter(pk=alert.pk).exists()
    assert not Alert.objects.visible_to(warden_a).filter(pk=alert.pk).exists()
    assert AlertEvent.objects.visible_to(warden_a).count() == 0


def test_marking_a_false_alarm_resolves_the_alert_and_records_who_and_when(campus: Any, warden_a: Any) -> None:
    alert = services.alert_acknowledge(alert=raise_in_room_a(campus), user=warden_a)
    at = T0 + dt.timedelta(hours=2)
    alert = services.alert_feedback(alert=alert, user=warden_a, true_alarm=False, at=at)
    assert (alert.status, alert.is_true_alarm, alert.resolved_by, alert.resolved_at) == (
        "resolved",
        False,
        warden_a,
        at,
    )
    assert actions(alert)[-2:] == [
        ("feedback", "acknowledged", "acknowledged"),
        ("resolved", "acknowledged", "resolved"),
    ]
    resolved = alert.events.get(action="resolved")
    assert (resolved.actor, resolved.at, resolved.detail) == (warden_a, at, {"note": "Marked a false alarm."})
    assert services.alert_feedback(alert=alert, user=warden_a, true_alarm=False).status == "resolved"
    assert alert.events.filter(action="resolved").count() == 1  # already resolved: only the verdict is recorded


def test_marking_a_true_alarm_keeps_the_alert_open(campus: Any, warden_a: Any) -> None:
    alert = services.alert_feedback(alert=raise_in_room_a(campus), user=warden_a, true_alarm=True)
    assert (alert.status, alert.is_true_alarm) == ("open", True)
    assert [row[0] for row in actions(alert)] == ["raised", "feedback"]


def test_a_false_alarm_no_longer_counts_as_needing_attention(campus: Any, warden_a: Any) -> None:
    from alerts.selectors import alerts_open_count

    alert = raise_in_room_a(campus)
    assert alerts_open_count(user=warden_a) == 1  # the header badge and a resumed socket's open_alerts
    services.alert_feedback(alert=alert, user=warden_a, true_alarm=False)
    assert alerts_open_count(user=warden_a) == 0
    assert not Alert.objects.active().exists()
