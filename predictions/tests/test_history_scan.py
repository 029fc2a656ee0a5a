"""Scans of stored history: the first run's and an import's findings arrive quietly, with one summary each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from alerts import realtime
from alerts.models import Alert, AlertEvent, EmailDelivery, HistorySummary, WebhookDelivery
from meters.signals import readings_ingested
from meters.simulation.labelled import LabelledCampus, labelled_campus_build
from predictions.detection import baseline_train
from predictions.detection.history import first_run_scan_ensure, history_scan_create, history_scan_step
from predictions.models import Anomaly, HistoryScan

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every live event sent to sockets."""
    events: list[dict[str, Any]] = []
    monkeypatch.setattr(realtime, "send_now", lambda event: events.append(dict(event)))
    return events


@pytest.fixture(scope="module")
def models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("history_scan_models")


@pytest.fixture(autouse=True)
def models_dir(settings: Any, models_root: Path) -> Path:
    """The module's baseline is read from where the module's campus fixture wrote it."""
    settings.ML_MODELS_DIR = models_root
    return models_root


@pytest.fixture(scope="module")
def built(django_db_setup: None, django_db_blocker: Any, models_root: Path) -> Iterator[LabelledCampus]:
    """A small campus whose last week holds a few incidents, its baseline trained on the week before.

    Built once for the module inside a transaction that each test's own (a savepoint) rolls back to,
    and that is rolled back after the module's last test: what a test writes never reaches the next.
    """
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with django_db_blocker.unblock(), override_settings(ML_MODELS_DIR=models_root), transaction.atomic():
        campus = labelled_campus_build(
            seed=3,
            days=14,
            incident_days=7,
            kinds=("sustained_excess", "voltage_sag"),
            start=today - dt.timedelta(days=14),
        )
        baseline_train(end=campus.end - dt.timedelta(days=7))
        warden = get_user_model().objects.create_user(username="warden_syn", email="warden@example.org")
        for hostel in campus.hostels:
            hostel.wardens.add(warden)
        yield campus
        transaction.set_rollback(True)


@pytest.fixture
def syn(built: LabelledCampus) -> LabelledCampus:
    """The module's campus, its rows as each test found them (refreshed: a test may have changed them)."""
    for meter in built.meters:
        meter.refresh_from_db()
    return built


def test_the_first_run_scan_raises_history_alerts_quietly_and_sends_one_summary_per_hostel(
    syn: LabelledCampus, eager: None, pushed: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    campus = syn
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
    syn: LabelledCampus, eager: None, pushed: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    campus = syn
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
    syn: LabelledCampus,
    eager: None,
    pushed: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    campus = syn
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
    syn: LabelledCampus,
    eager: None,
    pushed: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    from predictions.detection import streaming

    campus = syn
    live: list[dict[str, Any]] = []
    monkeypatch.setattr(streaming, "detection_request", lambda **kwargs: live.append(kwargs))
    meter_ids = [m.pk for m in campus.meters]
    week = campus.end - dt.timedelta(days=7)
    # The import ends two days before today: its scan ends on the hour after it, and a summary ending less
    # than a day ago reads "in the last N days" (one day back did so in the first hour after midnight UTC).
    with django_capture_on_commit_callbacks(execute=True):
        readings_ingested.send(sender=None, meter_ids=meter_ids, start=week, end=campus.end - dt.timedelta(days=2))
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


def _history_csv(path: Any, campus: LabelledCampus, *, hostel_index: int, since: dt.datetime) -> tuple[list[int], int]:
    """Move one hostel's readings since `since` out of the database into a long-format CSV, as an export would."""
    from meters.models import Reading

    meters = [
        m for m in campus.meters if (m.room.hostel_id if m.room else m.hostel_id) == campus.hostels[hostel_index].pk
    ]
    readings = Reading.objects.filter(meter__in=meters, timestamp__gte=since).select_related("meter").order_by("pk")
    lines = ["meter,timestamp,kwh"] + [f"{r.meter.serial},{r.timestamp.isoformat()},{r.kwh}" for r in readings]
    path.write_text("\n".join(lines) + "\n")
    count = len(lines) - 1
    readings.delete()
    return [m.pk for m in meters], count


def test_an_import_larger_than_one_chunk_gives_one_scan_and_one_summary(
    syn: LabelledCampus,
    eager: None,
    pushed: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
    tmp_path: Any,
) -> None:
    from django.core.management import call_command

    from meters.ingest import parse

    campus = syn
    week = campus.end - dt.timedelta(days=7)
    meter_ids, rows = _history_csv(tmp_path / "history.csv", campus, hostel_index=0, since=week)
    monkeypatch.setattr(parse, "CSV_BLOCK_BYTES", 1 << 14)  # a few hundred rows a chunk
    chunks = list(parse.readings_chunks(path=tmp_path / "history.csv"))
    assert len(chunks) > 10
    assert sum(len(c) for c in chunks) == rows
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_readings", str(tmp_path / "history.csv"), "--json")
    scan = HistoryScan.objects.get()
    assert (scan.reason, scan.status, sorted(scan.meter_ids)) == ("import", "done", sorted(meter_ids))
    assert scan.findings >= 1
    summary = HistorySummary.objects.get()
    assert (summary.hostel, summary.findings) == (campus.hostels[0], scan.findings)
    assert [e["type"] for e in pushed] == ["history.scanned"]


def test_gateway_batches_of_old_readings_join_one_pending_scan_with_one_summary(
    syn: LabelledCampus,
    pushed: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    monkeypatch: Any,
) -> None:
    from predictions import tasks

    campus = syn
    settings.HISTORY_SCAN_QUIET_SECONDS = 60
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.history_scan_step_task, "apply_async", lambda *a, **kw: queued.append(kw))
    rooms = [m for m in campus.meters if m.room_id]
    week = campus.end - dt.timedelta(days=7)
    # A gateway back from an outage sends its backlog a day and a few meters at a time.
    for day in range(6):
        batch = rooms[day % 3 :: 3]
        start = week + dt.timedelta(days=day)
        with django_capture_on_commit_callbacks(execute=True):
            readings_ingested.send(
                sender=None, meter_ids=[m.pk for m in batch], start=start, end=start + dt.timedelta(hours=23)
            )
    scan = HistoryScan.objects.get()
    assert scan.status == "pending"
    assert scan.key.startswith("import:pending:")
    assert (sorted(scan.meter_ids), scan.start, scan.end) == (
        sorted(m.pk for m in rooms),
        week,
        week + dt.timedelta(days=6),
    )
    assert [q["countdown"] for q in queued] == [60]  # one start queued, after the quiet spell
    # The queued step arrives while batches still come: it waits, and looks again when they stop.
    with django_capture_on_commit_callbacks(execute=True):
        assert "waiting" in history_scan_step(scan_id=scan.pk)
    assert len(queued) == 2
    assert 0 < queued[1]["countdown"] <= 60
    HistoryScan.objects.filter(pk=scan.pk).update(updated_at=scan.updated_at - dt.timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        while (scan := HistoryScan.objects.get(pk=scan.pk)).status != "done":
            history_scan_step(scan_id=scan.pk)
    assert scan.key == f"import:{scan.pk}"
    assert scan.findings >= 1
    summaries = list(HistorySummary.objects.all())
    assert len({s.hostel_id for s in summaries}) == len(summaries) >= 1  # one per hostel with findings
    assert sum(s.findings for s in summaries) == scan.findings
    assert [e["type"] for e in pushed] == ["history.scanned"] * HistorySummary.objects.count()
    # A batch arriving once the scan has started goes to a new pending scan, not into the running one.
    with django_capture_on_commit_callbacks(execute=True):
        readings_ingested.send(sender=None, meter_ids=[rooms[0].pk], start=week, end=week + dt.timedelta(hours=5))
    assert HistoryScan.objects.filter(status="pending").count() == 1
    assert HistoryScan.objects.count() == 2
    assert queued[-1]["countdown"] == 60


def test_a_catch_up_that_outlasts_the_quiet_spell_still_ends_in_one_summary_per_hostel(
    syn: LabelledCampus,
    pushed: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    monkeypatch: Any,
) -> None:
    from predictions import tasks

    campus = syn
    settings.HISTORY_SCAN_QUIET_SECONDS = 60
    monkeypatch.setattr(tasks.history_scan_step_task, "apply_async", lambda *a, **kw: None)
    hit = [incident.meter_id for incident in campus.incidents]
    assert len(set(hit)) >= 2
    early = [m for m in campus.meters if m.pk == hit[0] or (m.pk not in hit and m.pk % 2)]
    late = [m for m in campus.meters if m not in early]  # the other incident's meter among them
    week = campus.end - dt.timedelta(days=7)

    def batch(meters: list[Any], day: int) -> None:
        start = week + dt.timedelta(days=day)
        with django_capture_on_commit_callbacks(execute=True):
            readings_ingested.send(sender=None, meter_ids=[m.pk for m in meters], start=start, end=campus.end)

    def quiet_passes(scan: HistoryScan) -> None:
        HistoryScan.objects.filter(pk=scan.pk).update(updated_at=timezone.now() - dt.timedelta(seconds=61))

    batch(early, 0)
    first = HistoryScan.objects.get()
    quiet_passes(first)
    with django_capture_on_commit_callbacks(execute=True):
        history_scan_step(scan_id=first.pk, chunk=1)  # the gateway paused longer than the quiet spell
    assert HistoryScan.objects.get(pk=first.pk).status == "running"
    batch(late, 0)  # and then went on sending
    second = HistoryScan.objects.get(status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        while (first := HistoryScan.objects.get(pk=first.pk)).status != "done":
            history_scan_step(scan_id=first.pk)
    assert first.summary_to_id == second.pk  # its findings wait for the scan still going
    assert not HistorySummary.objects.exists()
    assert pushed == []
    quiet_passes(second)
    with django_capture_on_commit_callbacks(execute=True):
        while (second := HistoryScan.objects.get(pk=second.pk)).status != "done":
            history_scan_step(scan_id=second.pk)
    assert second.summary_to_id is None
    assert first.findings >= 1
    assert second.findings >= 1
    summaries = list(HistorySummary.objects.all())
    assert len({s.hostel_id for s in summaries}) == len(summaries) >= 1  # one per hostel, for both scans
    assert sum(s.findings for s in summaries) == first.findings + second.findings
    assert {(s.start, s.end) for s in summaries} == {(min(first.start, second.start), max(first.end, second.end))}
    assert [e["type"] for e in pushed] == ["history.scanned"] * len(summaries)


def test_a_scan_that_fails_still_tells_what_it_and_the_scans_handed_to_it_found(
    syn: LabelledCampus, pushed: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    from predictions.detection.history import history_scan_fail

    site = syn.hostels[0].site
    earlier = HistoryScan.objects.create(
        key="import:1001", reason="import", site=site, start=syn.start, end=syn.end, status="running",
        findings_by_hostel={str(syn.hostels[0].pk): 2}, findings=2,
    )  # fmt: skip
    later = HistoryScan.objects.create(
        key="import:1002", reason="import", site=site, start=syn.start, end=syn.end, status="running",
        findings_by_hostel={str(syn.hostels[0].pk): 1}, findings=1,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        from predictions.detection.history import history_scan_finish

        assert history_scan_finish(scan_id=earlier.pk)["summed_up_in"] == later.pk
        assert not HistorySummary.objects.exists()
        history_scan_fail(scan_id=later.pk, error=RuntimeError("disk full"))
    summary = HistorySummary.objects.get()
    assert (summary.hostel, summary.findings) == (syn.hostels[0], 3)
