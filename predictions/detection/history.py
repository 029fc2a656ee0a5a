"""Scans of stored history: detection over readings that were already there (the seeded demo, an import).

What a scan finds is raised as alerts marked as found in history (no push, email or escalation each),
and when the scan ends each hostel gets one summary notification (alerts.services.history). A scan is
a `HistoryScan` row worked through a chunk of meters per task, so live detection queued meanwhile runs
between chunks, and progress survives a restart. Every step is safe to run twice: anomalies are upserted,
an anomaly becomes an alert once, a chunk counts once (conditional update), a summary is sent once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from celery import signature
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from meters.models import Meter, Reading
from predictions.detection.baselines import detected_meters
from predictions.detection.history_eras import Era, era_baseline, history_eras
from predictions.detection.services import anomalies_detect
from predictions.ml.anomaly import AnomalyBaseline
from predictions.models import Anomaly, HistoryScan, ModelVersion
from predictions.retention import era_artifacts_release

logger = logging.getLogger(__name__)

CHUNK_METERS = 45  # about one demo hostel per task: 15 s of a worker for 120 days
SLICE = dt.timedelta(days=30)  # one detection call's span: long enough to amortise its 24 h of context
STALE_AFTER = dt.timedelta(minutes=15)  # a running scan not advanced for this long is queued again
PENDING_IMPORT = "import:pending:"  # key prefix of a site's pending import scan, renamed when it starts
UNFINISHED = (HistoryScan.Status.PENDING, HistoryScan.Status.RUNNING)


def history_cutoff(*, now: dt.datetime | None = None) -> dt.datetime:
    """Readings before this are history (settings.DETECTION_HISTORY_HOURS before now)."""
    return (now or timezone.now()) - dt.timedelta(hours=settings.DETECTION_HISTORY_HOURS)


def _scan_order(meter_ids: list[int]) -> list[int]:
    """Hostel by hostel (the first hostel's inbox fills first), hostel mains after their rooms."""
    rows = Meter.objects.filter(pk__in=meter_ids).values_list("pk", "hostel_id", "room__hostel_id")
    return [pk for pk, hostel, room_hostel in sorted(rows, key=lambda r: (r[2] or r[1] or 0, r[0]))]


def history_scan_create(
    *, reason: str, meter_ids: list[int], start: dt.datetime, end: dt.datetime, key: str | None = None
) -> tuple[HistoryScan, bool]:
    """Store a scan (or find the one with this key) and queue its first step after commit."""
    ordered = _scan_order(meter_ids)
    scan, created = HistoryScan.objects.get_or_create(
        key=key or f"{reason}:{uuid.uuid4().hex}",
        defaults={"reason": reason, "start": start, "end": end, "meter_ids": ordered, "meters_total": len(ordered)},
    )
    if created:
        history_scan_enqueue(scan_id=scan.pk)
    return scan, created


SCAN_STEP = "predictions.tasks.history_scan_step"  # by name: predictions.tasks imports this module


def history_scan_enqueue(*, scan_id: int, countdown: float = 0, train: bool = False) -> None:
    """Queue the scan's next step after commit (`train`: a step that trains the next era's baseline)."""
    kwargs: dict[str, Any] = {"scan_id": scan_id, **({"train": True} if train else {})}
    if countdown > 0:
        transaction.on_commit(lambda: signature(SCAN_STEP, kwargs=kwargs).apply_async(countdown=countdown))
    else:
        transaction.on_commit(lambda: signature(SCAN_STEP, kwargs=kwargs).delay())


def _quiet_left(scan: HistoryScan, *, now: dt.datetime) -> float:
    """Seconds until a site's pending import scan may start: a batch joined it less than the quiet spell ago."""
    if scan.status != HistoryScan.Status.PENDING or not scan.key.startswith(PENDING_IMPORT):
        return 0.0
    return max((scan.updated_at + _quiet(scan) - now).total_seconds(), 0.0)


def _quiet(scan: HistoryScan) -> dt.timedelta:
    """Only a site's pending import scan waits for more batches; the first run's starts at once."""
    if not scan.key.startswith(PENDING_IMPORT):
        return dt.timedelta(0)
    return dt.timedelta(seconds=settings.HISTORY_SCAN_QUIET_SECONDS)


def _start(scan: HistoryScan) -> bool:
    """Pending to running unless a batch joined it within the quiet spell; a pending import key is freed."""
    now = timezone.now()
    key = f"import:{scan.pk}" if scan.key.startswith(PENDING_IMPORT) else scan.key
    return bool(
        HistoryScan.objects.filter(
            pk=scan.pk, status=HistoryScan.Status.PENDING, updated_at__lte=now - _quiet(scan)
        ).update(status=HistoryScan.Status.RUNNING, key=key, started_at=now, updated_at=now)
    )


def history_scan_step(*, scan_id: int, chunk: int = CHUNK_METERS, train: bool = False) -> dict[str, Any]:
    """Scan the next chunk of meters over the whole range; finish (summaries) after the last one.

    An era's own baseline (history_eras) is trained in a step of its own (`train`), never inside a chunk's
    step: the first chunk's newest weeks, which the current baseline judges at once, reach the inbox first,
    and whatever was queued meanwhile (the first training of the dashboards' models, live work on a shared
    worker) runs between the era trainings instead of waiting for all of them."""
    scan = HistoryScan.objects.get(pk=scan_id)
    if scan.status in (HistoryScan.Status.DONE, HistoryScan.Status.FAILED):
        return {"scan": scan.pk, "skipped": scan.status}
    if scan.status == HistoryScan.Status.PENDING and not _start(scan):
        scan.refresh_from_db()
        wait = _quiet_left(scan, now=timezone.now())
        if scan.status == HistoryScan.Status.PENDING:  # more batches joined it: look again when they stop
            history_scan_enqueue(scan_id=scan.pk, countdown=max(wait, 1.0))
            return {"scan": scan.pk, "waiting": round(wait, 1)}
    scan.refresh_from_db()  # the meters and range as they were when it started
    eras = history_eras(scan=scan)
    untrained = next((era for era in eras if era.own and era.version_id is None), None)
    if train and untrained is not None:
        era_baseline(scan=scan, era=untrained)  # trained and named on the scan
        scan.refresh_from_db(fields=["eras"])
        more = any(era.own and era.version_id is None for era in history_eras(scan=scan))
        history_scan_enqueue(scan_id=scan.pk, train=more)  # then the chunk that waited for it
        return {"scan": scan.pk, "era_trained": untrained.start.isoformat()}
    ready = eras if untrained is None else eras[: eras.index(untrained)]
    done = scan.meters_done
    meters = list(scan.meter_ids[done : done + chunk])
    by_hostel: dict[str, int] = {}
    for start, end, baseline in history_judges(scan=scan, eras=ready) if meters else []:
        result = anomalies_detect(
            meter_ids=meters, start=start, end=end, history=True, history_end=scan.end, baseline=baseline
        )
        raised = (
            Anomaly.objects.filter(pk__in=result.created, status=Anomaly.Status.OPEN)
            .values("hostel_id")
            .annotate(n=Count("id"))
        )
        for row in raised:
            key = str(row["hostel_id"] or "-")
            by_hostel[key] = by_hostel.get(key, 0) + row["n"]
    finished = untrained is None or not meters
    if not _chunk_record(scan=scan, done=done, meters=meters if finished else [], by_hostel=by_hostel):
        return {"scan": scan.pk, "skipped": "chunk done by another run"}
    if not finished:
        # The chunk's weeks judged so far are counted (judged again later, they are not found twice); the
        # older ones wait for their baseline, trained in the next step, behind whatever was queued meanwhile.
        history_scan_enqueue(scan_id=scan.pk, train=True)
        return {"scan": scan.pk, "meters_done": done, "findings": sum(by_hostel.values()), "era_pending": True}
    if done + len(meters) < scan.meters_total:
        history_scan_enqueue(scan_id=scan.pk)
        return {"scan": scan.pk, "meters_done": done + len(meters), "findings": sum(by_hostel.values())}
    return history_scan_finish(scan_id=scan.pk)


def _chunk_record(*, scan: HistoryScan, done: int, meters: list[int], by_hostel: dict[str, int]) -> bool:
    """Add a step's findings to the scan and advance past `meters` (none: the chunk is not finished yet).

    False when another delivery of this step got there first (a conditional update)."""
    merged = dict(scan.findings_by_hostel)
    for key, n in by_hostel.items():
        merged[key] = merged.get(key, 0) + n
    for hostel_id in Meter.objects.filter(pk__in=meters).values_list("hostel_id", "room__hostel_id"):
        merged.setdefault(str(hostel_id[1] or hostel_id[0] or "-"), 0)  # a hostel with nothing found is told so
    return bool(
        HistoryScan.objects.filter(pk=scan.pk, meters_done=done, findings=scan.findings).update(
            meters_done=done + len(meters),
            findings=scan.findings + sum(by_hostel.values()),
            findings_by_hostel=merged,
            updated_at=timezone.now(),  # update() leaves auto_now alone: a restart reads staleness from it
        )
    )


def history_judges(
    *, scan: HistoryScan, eras: list[Era] | None = None
) -> Iterator[tuple[dt.datetime, dt.datetime, tuple[AnomalyBaseline, ModelVersion | None] | None]]:
    """The scan's range (or these eras of it) in slices of at most SLICE, each with the baseline that judges it."""
    for era in history_eras(scan=scan) if eras is None else eras:  # newest first: the current baseline's first
        baseline = era_baseline(scan=scan, era=era)
        start, stop = max(era.start, scan.start), min(era.end, scan.end)
        while start < stop:
            end = min(start + SLICE, stop)
            yield start, end, baseline
            start = end


def history_scan_finish(*, scan_id: int) -> dict[str, Any]:
    """Mark the scan done and send one summary per hostel (each at most once, whatever re-runs).

    An import scan that ends while another scan of its site is still pending or running (a gateway's
    catch-up that outlasted the quiet spell) hands its findings to that scan instead: the last scan of
    the site to end sends one summary for all of them.
    """
    site_id = HistoryScan.objects.values_list("site_id", flat=True).get(pk=scan_id)
    with transaction.atomic():
        # The scan and its site's unfinished scans, locked in one order: two ending at once take turns.
        unfinished = Q(reason=HistoryScan.Reason.IMPORT, site_id=site_id, status__in=UNFINISHED)
        locked = {s.pk: s for s in HistoryScan.objects.select_for_update().filter(Q(pk=scan_id) | unfinished)}
        scan = locked.pop(scan_id)
        if scan.status == HistoryScan.Status.DONE:
            return {"scan": scan.pk, "skipped": "done"}
        scan.status = HistoryScan.Status.DONE
        scan.finished_at = timezone.now()
        successor = min(locked) if scan.reason == HistoryScan.Reason.IMPORT and locked else None
        scan.summary_to_id = successor
        scan.save(update_fields=["status", "finished_at", "summary_to", "updated_at"])
        if successor is None:
            _summaries_send(scan=scan)
    era_artifacts_release(scan=scan)
    report = {"scan": scan.pk, "status": "done", "findings": scan.findings, "meters": scan.meters_total}
    return report | ({"summed_up_in": successor} if successor else {})


def _summed_up(scan: HistoryScan) -> list[HistoryScan]:
    """The scan and every earlier scan that handed its findings to it (directly or through another)."""
    chain, frontier = [scan], [scan.pk]
    while frontier:
        earlier = list(HistoryScan.objects.filter(summary_to_id__in=frontier))
        chain += earlier
        frontier = [s.pk for s in earlier]
    return chain


def _summaries_send(*, scan: HistoryScan) -> None:
    """One summary per hostel for the scan and the scans summed up in it."""
    from alerts.services import history_summary_record

    chain = _summed_up(scan)
    by_hostel: dict[str, int] = {}
    for each in chain:
        for key, findings in each.findings_by_hostel.items():
            by_hostel[key] = by_hostel.get(key, 0) + findings
    start, end = min(s.start for s in chain), max(s.end for s in chain)
    for key, findings in sorted(by_hostel.items()):
        if findings or scan.reason == HistoryScan.Reason.FIRST_RUN:
            history_summary_record(
                key=f"history-scan:{scan.pk}:{key}",
                hostel_id=None if key == "-" else int(key),
                findings=findings,
                start=start,
                end=end,
            )


def history_scan_fail(*, scan_id: int, error: BaseException) -> None:
    """Record why a scan stopped (after its retries); the next start of the server queues it again.

    What it and the scans summed up in it found so far is told now: their alerts are in the inbox.
    """
    with transaction.atomic():
        failed = (
            HistoryScan.objects.filter(pk=scan_id)
            .exclude(status=HistoryScan.Status.DONE)
            .update(status=HistoryScan.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000])
        )
        # A failed scan takes no more batches: the next batch of its site starts a pending scan of its own.
        HistoryScan.objects.filter(pk=scan_id, key__startswith=PENDING_IMPORT).update(key=f"import:{scan_id}")
        if failed:
            _summaries_send(scan=HistoryScan.objects.get(pk=scan_id))


def history_scan_request(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime) -> list[HistoryScan]:
    """Stored history arrived (an import, a gateway catching up): scan its detected meters over [start, end).

    Batches join their site's pending scan (its meters and range grow) until it starts, which it does
    once no batch has joined for settings.HISTORY_SCAN_QUIET_SECONDS: one scan and one summary per hostel
    for a whole import or catch-up, not one per batch. A batch arriving after the start queues the next scan.
    """
    rows = (
        detected_meters()
        .filter(pk__in=meter_ids)
        .annotate(site=Coalesce("room__hostel__site_id", "hostel__site_id"))
        .values_list("pk", "site")
    )
    by_site: dict[int | None, list[int]] = {}
    for pk, site in rows:
        by_site.setdefault(site, []).append(pk)
    return [
        _pending_scan_join(site_id=site, meter_ids=ids, start=start, end=end)
        for site, ids in sorted(by_site.items(), key=lambda item: item[0] or 0)
    ]


def _pending_scan_join(
    *, site_id: int | None, meter_ids: list[int], start: dt.datetime, end: dt.datetime
) -> HistoryScan:
    """Add meters and a range to the site's pending import scan (created, and its start queued, if none)."""
    key = f"{PENDING_IMPORT}{site_id if site_id is not None else '-'}"
    with transaction.atomic():
        _, created = HistoryScan.objects.get_or_create(
            key=key, defaults={"reason": HistoryScan.Reason.IMPORT, "start": start, "end": end, "site_id": site_id}
        )
        scan = HistoryScan.objects.select_for_update().get(key=key)  # a starting step waits for this batch
        ordered = _scan_order(sorted(set(scan.meter_ids) | set(meter_ids)))
        scan.meter_ids, scan.meters_total = ordered, len(ordered)
        scan.start, scan.end = min(scan.start, start), max(scan.end, end)
        scan.save(update_fields=["meter_ids", "meters_total", "start", "end", "updated_at"])
        if created:
            history_scan_enqueue(scan_id=scan.pk, countdown=settings.HISTORY_SCAN_QUIET_SECONDS)
    return scan


def history_scans_resume() -> list[int]:
    """Queue again the import scans whose queued step was lost with the last process (pending, failed, stale)."""
    now = timezone.now()
    resumed = []
    for scan in HistoryScan.objects.filter(reason=HistoryScan.Reason.IMPORT).exclude(status=HistoryScan.Status.DONE):
        stale = scan.status == HistoryScan.Status.RUNNING and (settings.EMBEDDED or now - scan.updated_at > STALE_AFTER)
        if scan.status == HistoryScan.Status.RUNNING and not stale:
            continue
        if scan.status == HistoryScan.Status.FAILED:
            continue  # it stopped after its retries on an error; the system page shows it
        history_scan_enqueue(scan_id=scan.pk, countdown=_quiet_left(scan, now=now))
        resumed.append(scan.pk)
    return resumed


def first_run_scan_ensure(*, now: dt.datetime | None = None) -> HistoryScan | None:
    """Queue the scan of the stored history once (or again, when an unfinished one was interrupted)."""
    now = now or timezone.now()
    scan = HistoryScan.objects.filter(key="first-run").first()
    if scan is None:
        first = Reading.objects.order_by("timestamp").values_list("timestamp", flat=True).first()
        if first is None:
            return None
        start = max(first, now - dt.timedelta(days=settings.FIRST_RUN_HISTORY_DAYS))
        meter_ids = list(detected_meters().values_list("pk", flat=True))
        scan, _ = history_scan_create(
            reason=HistoryScan.Reason.FIRST_RUN, meter_ids=meter_ids, start=start, end=now, key="first-run"
        )
        return scan
    interrupted = scan.status == HistoryScan.Status.RUNNING and (
        settings.EMBEDDED or now - scan.updated_at > STALE_AFTER
    )
    if scan.status in (HistoryScan.Status.PENDING, HistoryScan.Status.FAILED) or interrupted:
        if scan.status == HistoryScan.Status.FAILED:
            HistoryScan.objects.filter(pk=scan.pk).update(status=HistoryScan.Status.PENDING, error="")
        history_scan_enqueue(scan_id=scan.pk)  # its queued step was lost with the last process
    return scan
