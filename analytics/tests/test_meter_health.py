"""Meter health scores with known answers, and the low alert for managers below the threshold."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.selectors import alerts_for_user
from analytics.selectors.meter_health import health_score_of, meter_health_for_user, meter_health_of, recommendation_for
from analytics.services import meter_health_alerts_raise
from analytics.tests.insight_data import load, occupy
from meters.models import MeterEvent, QuarantinedReading
from meters.tests.factories import MeterFactory, RoomFactory


def test_score_weighs_communication_quality_agreement_and_trend() -> None:
    assert health_score_of(communication=100, quality=100, agreement=100, trend_points=0) == 100
    assert health_score_of(communication=50, quality=100, agreement=100, trend_points=0) == round(100 - 0.35 * 50)
    # Nothing to agree with: the other weights share its 25 %.
    assert health_score_of(communication=50, quality=100, agreement=None, trend_points=0) == round(57.5 / 0.75)
    # Ten points lost in the last week: the trend part is 60.
    assert health_score_of(communication=100, quality=100, agreement=100, trend_points=-10) == 94


def _advice(**change: Any) -> str:
    parts: dict[str, Any] = {
        "communication": 100.0,
        "quality": 100.0,
        "agreement": 100.0,
        "trend": "stable",
        "late_hours": 0.1,
        "resets": 0,
    }
    return recommendation_for(**{**parts, **change})


def test_recommendation_names_the_weakest_part() -> None:
    assert _advice() == "Healthy: no action needed."
    assert "gateway link" in _advice(communication=0.0, late_hours=48.0)
    assert "register reset" in _advice(resets=2)
    assert "CT ratio" in _advice(agreement=40.0)
    assert "Getting worse" in _advice(trend="degrading")


def _today() -> dt.date:
    return timezone.localdate()


@pytest.mark.django_db
def test_half_the_readings_halve_communication(campus: Any) -> None:
    meter = campus.meter_a
    load(meter, start=_today() - dt.timedelta(days=28), days=28, readings_per_hour=2)
    meter.last_reading_at = timezone.now()
    meter.save()
    health = meter_health_of(meters=[meter])[0]
    assert health.communication == pytest.approx(50.0)
    assert health.quality == pytest.approx(100.0)
    assert health.agreement is None
    assert health.trend == "stable"
    assert health.score == round((0.35 * 50 + 0.25 * 100 + 0.15 * 100) / 0.75)
    assert "50 % of readings" in health.recommendation


@pytest.mark.django_db
def test_quarantined_rows_and_register_resets_lower_data_quality(campus: Any) -> None:
    meter = campus.meter_a
    load(meter, start=_today() - dt.timedelta(days=28), days=28)
    meter.last_reading_at = timezone.now()
    meter.save()
    for i in range(269):  # 10 % of the 2,688 expected readings
        QuarantinedReading.objects.create(source="t", meter=meter, raw={}, reason="negative energy", row_number=i)
    MeterEvent.objects.create(meter=meter, kind=MeterEvent.Kind.REGISTER_RESET, occurred_at=timezone.now())
    health = meter_health_of(meters=[meter])[0]
    assert health.quality == pytest.approx(100 - 10 - 15, abs=0.1)
    assert "register reset" in health.recommendation


@pytest.mark.django_db
def test_a_room_meter_far_from_its_peers_disagrees(campus: Any) -> None:
    start = _today() - dt.timedelta(days=28)
    rooms = [RoomFactory.create(hostel=campus.hostel_a, bed_type=2) for _ in range(4)]
    for room in rooms:
        occupy(room, 2)
    peers = [MeterFactory.create(room=room) for room in rooms[:3]]
    for meter in peers:
        load(meter, start=start, days=28)
    odd = MeterFactory.create(room=rooms[3])
    load(odd, start=start, days=28, scale=lambda day: 8.0)
    empty = MeterFactory.create(room=RoomFactory.create(hostel=campus.hostel_a, bed_type=2))
    load(empty, start=start, days=28, scale=lambda day: 0.02)  # nobody lives there: standby only
    health = {h.serial: h for h in meter_health_of(meters=[*peers, odd, empty])}
    assert health[odd.serial].agreement == 0.0
    assert health[peers[0].serial].agreement == 100.0
    assert health[empty.serial].agreement is None  # an empty room is not a faulty meter


@pytest.mark.django_db
def test_a_dead_meter_raises_a_low_alert_only_managers_see(campus: Any, manager: Any, warden_a: Any) -> None:
    load(campus.meter_b, start=_today() - dt.timedelta(days=28), days=28)
    campus.meter_b.last_reading_at = timezone.now()
    campus.meter_b.save()
    campus.meter_a.last_reading_at = timezone.now() - dt.timedelta(days=10)
    campus.meter_a.save()
    assert meter_health_alerts_raise() == 1
    assert meter_health_alerts_raise() == 1  # a repeat, not a second alert
    alert = Alert.objects.get(kind="meter_health")
    assert alert.severity == "low"
    assert alert.occurrences == 2
    assert alert.title == "Meter RM-A-101: health 20/100"
    assert "No reading for 240 h" in alert.explanation
    assert alerts_for_user(user=manager).filter(pk=alert.pk).exists()
    assert not alerts_for_user(user=warden_a).filter(pk=alert.pk).exists()


@pytest.mark.django_db
def test_warden_sees_the_health_of_their_hostels_meters_only(campus: Any, warden_a: Any) -> None:
    assert [h.serial for h in meter_health_for_user(user=warden_a)] == ["RM-A-101"]
