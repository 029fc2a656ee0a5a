"""Scans of stored history: the first run's and an import's findings arrive quietly, with one summary each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from alerts import realtime
from alerts.models import Alert, AlertEvent, EmailDelivery, HistorySummary, WebhookDelivery
from config.celery import app
from meters.signals import readings_ingested
from predictions.detection import baseline_train
from predictions.detection.history import first_run_scan_ensure, history_scan_create, history_scan_step
from predictions.models import Anomaly, HistoryScan
from predictions.tests.synthetic_detection import SyntheticCampus, synthetic_campus_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager() -> Iterator[None]:
    """Tasks run in the calling thread, as the worker would run them."""
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def pushed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every live event sent to sockets."""
    events: list[dict[str, Any]] = []
    monkeypatch.setattr(realtime, "send_now", lambda event: events.append(dict(event)))
    return events


def _campus() -> SyntheticCampus:
    """A small campus whose last week holds a few incidents, its baseline trained on the week before."""
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    campus = synthetic_campus_build(
        seed=3, days=14, incident_days=7, kinds=("sustained_excess", "voltage_sag"), start=today - dt.timedelta(days=14)
    )
    baseline_train(end=campus.end - dt.timedelta(days=7))
    warden = get_user_model().objects.create_user(username="warden_syn", email="warden@example.org")
    for hostel in campus.hostels:
        hostel.wardens.add(warden)
    return campus


def test_the_first_run_scan_raises_history_alerts_quietly_and_sends_one_summary_per_hostel(
    eager: None, pushed: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    campus = _campus()
    with django_capture_on_commit_callbacks(execute=True):
        scan = first_run_scan_ensure(now=campus.end)
    assert scan is not None
    scan.refresh_from_db()
    alerts = list(Alert.objects.all())
    assert len(alerts) >= 2
    assert all(alert.history for alert in alerts)
    anomalies = {a.pk: a for a in Anomaly.objects.filter(alerted=True)}
    assert {alert.first_seen_at for alert in alerts} == {a.start for a in anomalies.values()}  # the event's time
    assert all(alert.escalation_due_at is None for alert in alerts)
    assert not AlertEvent.objects.filter(pushed=True).exists()
    assert not EmailDelivery.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert (scan.status, scan.meters_done, scan.findings) == ("done", scan.meters_total, len(alerts))
    # One push per hostel, none per finding; one email to the warden per hostel with findings.
    assert [e["type"] for e in pushed] == ["history.scanned"] * len(campus.hostels)
    summaries = list(HistorySummary.objects.order_by("hostel_id"))
    assert sum(s.findings for s in summaries) == len(alerts)
    assert summaries[0].title.startswith("History scan of Hostel A: ")
    assert summaries[0].title.endswith(" in the last 14 days")
    with_findings = [s for s in summaries if s.findings]
    assert len(mail.outbox) == len(with_findings)
    assert all(m.to == ["warden@example.org"] and "History scan of" in m.subject for m in mail.outbox)


def test_running_a_scan_again_duplicates_no_alert_and_tells_nobody_twice(
    eager: None, pushed: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    campus = _campus()
    with django_capture_on_commit_callbacks(execute=True):
        scan = first_run_scan_ensure(now=campus.end)
    assert scan is not None
    alerts, summaries, emails = Alert.objects.count(), HistorySummary.objects.count(), len(mail.outbox)
    assert summaries == len(campus.hostels)
    assert emails >= 1
    with django_capture_on_commit_callbacks(execute=True):
        assert history_scan_step(scan_id=scan.pk) == {"scan": scan.pk, "skipped": "done"}  # a redelivered task
        assert first_run_scan_ensure(now=campus.end) == scan  # the next server start
        again, _ = history_scan_create(
            reason=HistoryScan.Reason.FIRST_RUN, meter_ids=scan.meter_ids, start=scan.start, end=scan.end
        )
    again.refresh_from_db()
    assert (again.status, again.findings) == ("done", 0)
    assert Alert.objects.count() == alerts
    assert HistorySummary.objects.filter(key__startswith=f"history-scan:{scan.pk}:").count() == summaries
    rescan = HistorySummary.objects.filter(key__startswith=f"history-scan:{again.pk}:")
    assert [s.findings for s in rescan] == [0] * len(campus.hostels)  # "0 findings", and no email for it
    assert len(mail.outbox) == emails


def test_an_interrupted_scan_carries_on_from_the_meters_it_had_done(
    eager: None, pushed: list[dict[str, Any]], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    campus = _campus()
    meter_ids = [m.pk for m in campus.meters]
    scan, _ = history_scan_create(
        reason=HistoryScan.Reason.FIRST_RUN, meter_ids=meter_ids, start=campus.start, end=campus.end, key="first-run"
    )  # queued after a commit that never came: the process stopped
    assert history_scan_step(scan_id=scan.pk, chunk=3)["meters_done"] == 3
    settings.EMBEDDED = True
    with django_capture_on_commit_callbacks(execute=True):
        first_run_scan_ensure(now=campus.end)
    scan.refresh_from_db()
    assert (scan.status, scan.meters_done) == ("done", len(scan.meter_ids))


def test_an_import_of_history_is_scanned_and_summed_up_in_one_notification(
    eager: None, pushed: list[dict[str, Any]], django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from predictions.detection import streaming

    campus = _campus()
    live: list[dict[str, Any]] = []
    monkeypatch.setattr(streaming, "detection_request", lambda **kwargs: live.append(kwargs))
    meter_ids = [m.pk for m in campus.meters]
    week = campus.end - dt.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        readings_ingested.send(sender=None, meter_ids=meter_ids, start=week, end=campus.end - dt.timedelta(days=1))
    assert live == []  # nothing of it is recent: no live detection, no toast per finding
    scan = HistoryScan.objects.get()
    assert (scan.reason, scan.status, scan.start) == ("import", "done", week)
    assert scan.findings == Alert.objects.filter(history=True).count() >= 2
    assert not AlertEvent.objects.filter(pushed=True).exists()
    assert [e["type"] for e in pushed] == ["history.scanned"] * HistorySummary.objects.count()
    assert all(s.findings for s in HistorySummary.objects.all())  # an import tells only of what it found
    assert "from " in HistorySummary.objects.first().title  # type: ignore[union-attr]


def test_a_batch_spanning_the_history_cutoff_is_scanned_up_to_it_and_detected_live_after(
    campus: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from predictions.detection import history, streaming

    settings.DETECTION_HISTORY_HOURS = 6
    live: list[dict[str, Any]] = []
    scans: list[dict[str, Any]] = []
    monkeypatch.setattr(streaming, "detection_request", lambda **kwargs: live.append(kwargs))
    monkeypatch.setattr(history, "history_scan_request", lambda **kwargs: scans.append(kwargs))
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        readings_ingested.send(sender=None, meter_ids=[campus.meter_a.pk], start=start, end=now)
    assert len(scans) == len(live) == 1
    cutoff = scans[0]["end"]
    assert scans[0]["start"] == start
    assert abs((now - cutoff).total_seconds() - 6 * 3600) < 60
    assert live[0]["start"] == cutoff
    assert live[0]["end"] == now + dt.timedelta(hours=1)
