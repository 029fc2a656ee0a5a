"""Scoping of anomalies, the streaming hook on ingestion, and the hand-off to alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from meters.signals import readings_ingested
from predictions.detection.handoff import anomalies_to_alerts
from predictions.models import Anomaly

pytestmark = pytest.mark.django_db

START = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)


def _anomaly(campus: Any, *, hostel: str, kind: str = "spike") -> Anomaly:
    meter = campus.meter_a if hostel == "A" else campus.meter_b
    return Anomaly.objects.create(
        meter=meter,
        hostel=meter.hostel,
        room=meter.room,
        kind=kind,
        start=START,
        end=START + dt.timedelta(hours=1),
        score=0.9,
        explanation="Room test: something happened.",
        dedupe_key=f"{meter.pk}:{kind}:{START:%Y%m%dT%H%M}",
    )


def test_wardens_see_only_their_hostels_anomalies(campus: Any, warden_a: Any, warden_b: Any, manager: Any) -> None:
    mine, theirs = _anomaly(campus, hostel="A"), _anomaly(campus, hostel="B")
    assert list(Anomaly.objects.visible_to(warden_a)) == [mine]
    assert list(Anomaly.objects.visible_to(warden_b)) == [theirs]
    assert set(Anomaly.objects.visible_to(manager)) == {mine, theirs}


def test_a_user_without_a_role_sees_no_anomalies(campus: Any, nobody: Any) -> None:
    _anomaly(campus, hostel="A")
    assert not Anomaly.objects.visible_to(nobody).exists()


def test_an_ingested_batch_enqueues_detection_for_its_meters_and_new_intervals(
    campus: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    calls: list[dict[str, Any]] = []
    from predictions.detection import streaming

    monkeypatch.setattr(streaming, "detection_request", lambda **kwargs: calls.append(kwargs))
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=1)  # live, not history
    with django_capture_on_commit_callbacks(execute=True):
        readings_ingested.send(
            sender=None, meter_ids=[campus.meter_a.pk], start=start, end=start + dt.timedelta(minutes=45)
        )
    assert calls == [
        {"meter_ids": [campus.meter_a.pk], "start": start, "end": start + dt.timedelta(hours=1, minutes=45)}
    ]


def test_without_redis_each_request_is_its_own_detection_task(monkeypatch: Any, settings: Any) -> None:
    from predictions import tasks
    from predictions.detection import streaming

    settings.REDIS_URL = None
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.detect_meters, "apply_async", lambda args=(), kwargs=None, **_: calls.append(kwargs))
    end = START + dt.timedelta(hours=1)
    assert streaming.detection_request(meter_ids=[7], start=START, end=end) is True
    assert calls == [{"meter_ids": [7], "start": START.isoformat(), "end": end.isoformat()}]


def test_open_anomalies_become_alerts_once_and_muted_ones_do_not(campus: Any) -> None:
    from alerts.models import Alert

    loud = _anomaly(campus, hostel="A")
    quiet = _anomaly(campus, hostel="B", kind="sustained_excess")
    quiet.status = Anomaly.Status.MUTED
    quiet.save()
    assert anomalies_to_alerts(anomalies=Anomaly.objects.all()) == 1
    assert anomalies_to_alerts(anomalies=Anomaly.objects.filter(pk=loud.pk)) == 1  # a repeat, not a new alert
    alert = Alert.objects.get()
    assert alert.meter_id == loud.meter_id
    assert alert.explanation == loud.explanation
    assert alert.source_payload["anomaly_id"] == loud.pk
    loud.refresh_from_db()
    assert loud.alerted


def test_a_wardens_verdict_on_an_alert_flows_back_as_detector_feedback(campus: Any, warden_a: Any) -> None:
    from alerts.models import Alert
    from alerts.services import alert_feedback
    from predictions.detection.baselines import feedback_sync_from_alerts
    from predictions.models import DetectorFeedback

    anomaly = _anomaly(campus, hostel="A")
    anomalies_to_alerts(anomalies=[anomaly])
    alert_feedback(alert=Alert.objects.get(), user=warden_a, true_alarm=False)
    assert Alert.objects.get().status == Alert.Status.RESOLVED  # a false alarm ends the alert, its verdict still flows
    assert feedback_sync_from_alerts() == 1
    assert feedback_sync_from_alerts() == 0
    feedback = DetectorFeedback.objects.get()
    assert feedback.meter_id == anomaly.meter_id
    assert not feedback.true_alarm
    anomaly.refresh_from_db()
    assert anomaly.status == Anomaly.Status.DISMISSED
