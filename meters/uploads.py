"""Confirmed uploads: queued on the `imports` queue, imported by a task, followed on a status page.

The upload page stages a file and shows its first rows; confirming it records a `ReadingsUpload` and
queues `meters.tasks.upload_import` once that row is committed. The task imports the staged file
with `readings_ingest_file` (one transaction for the whole file: a failure stores nothing), reports
rows done through the cache while it runs, and keeps the report on the row. A failed import keeps its
staged file and its reason, and can be queued again (`upload_retry`) until the file goes stale
(UPLOAD_STAGED_HOURS).

Lost messages (`uploads_recover`, a beat task): an upload still queued UPLOAD_REQUEUE_MINUTES after it
was queued is queued again; one importing whose import has not reported progress for
UPLOAD_STALL_MINUTES, and whose row no live import holds, is marked failed (Retry queues it again).
The import holds its upload's row locked and marks it done in the same transaction as its readings,
so an upload left "importing" by a dead worker has stored nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.roles import Role, role_of
from customers.models import AuditEntry
from customers.services import audit_record
from meters.ingest import ColumnMap, FileFormatError, IngestResult, readings_ingest_file
from meters.ingest.parse import FileLimits, file_kind
from meters.ingest.sites import SiteImportError, site_for_import
from meters.models import ReadingsUpload

logger = logging.getLogger(__name__)

IMPORT_TASK = "meters.tasks.upload_import"
# Rejections and gaps kept on the row for the report (every rejected row is in the quarantine).
REPORT_REJECTIONS = 200
REPORT_GAPS = 100
# How long a running import's row count stays in the cache without an update.
PROGRESS_SECONDS = 6 * 60 * 60


def upload_dir() -> Path:
    path = Path(settings.DATA_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def uploads_visible(user: Any) -> QuerySet[ReadingsUpload]:
    """Uploads this user may follow: administrators see all, a manager their own, anyone else none."""
    role = role_of(user)
    if role is Role.ADMIN:
        return ReadingsUpload.objects.all()
    if role is Role.MANAGER:
        return ReadingsUpload.objects.filter(user=user)
    return ReadingsUpload.objects.none()


@dataclass(frozen=True)
class UploadOptions:
    """How to read an upload, as `import_readings` takes it: the zone of its timestamps, a column per meter
    (`wide`), exact zeros as missing, and the site unknown meters are created in (blank: none are)."""

    timezone: str = ""
    wide: bool = False
    zero_is_missing: bool = False
    site_code: str = ""
    site_timezone: str = ""
    meter_serial: str = ""  # every row is this meter (a file of one meter)
    columns: dict[str, str] = field(default_factory=dict)  # canonical name -> the file's column, where it differs

    def mapping(self) -> ColumnMap:
        return ColumnMap(columns=self.columns, meter=self.meter_serial or None, wide=self.wide)

    @classmethod
    def of(cls, upload: ReadingsUpload) -> UploadOptions:
        """The options a queued upload was confirmed with."""
        return cls(
            timezone=upload.timezone,
            wide=upload.wide,
            zero_is_missing=upload.zero_is_missing,
            site_code=upload.site_code,
            site_timezone=upload.site_timezone,
            meter_serial=upload.meter_serial,
            columns=dict(upload.columns or {}),
        )


def upload_queue(*, user: Any, staged: Path, filename: str, options: UploadOptions) -> ReadingsUpload:
    """Record a confirmed upload and queue its import once the record is committed."""
    with transaction.atomic():
        upload = ReadingsUpload.objects.create(
            user=user,
            filename=filename[:200],
            staged_name=staged.name,
            timezone=options.timezone[:64],
            wide=options.wide,
            zero_is_missing=options.zero_is_missing,
            site_code=options.site_code[:32],
            site_timezone=options.site_timezone[:64],
            meter_serial=options.meter_serial[:64],
            columns=dict(options.columns),
            queued_at=timezone.now(),
        )
        transaction.on_commit(lambda: _enqueue(upload.pk))
    return upload


def upload_retry(upload: ReadingsUpload) -> bool:
    """Queue a failed import again; False when it has not failed or its staged file is gone."""
    with transaction.atomic():
        locked = ReadingsUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status != ReadingsUpload.Status.FAILED or _staged_path(locked) is None:
            return False
        locked.status, locked.error, locked.finished_at = ReadingsUpload.Status.QUEUED, "", None
        locked.queued_at = timezone.now()
        locked.save(update_fields=["status", "error", "finished_at", "queued_at"])
        transaction.on_commit(lambda: _enqueue(locked.pk))
    return True


def _enqueue(upload_id: uuid.UUID) -> None:
    from celery import signature

    try:
        signature(IMPORT_TASK, kwargs={"upload_id": str(upload_id)}).delay()
    except Exception as error:  # a broker down: say so on the page, the file stays for a retry
        logger.exception("could not queue the import of upload %s", upload_id)
        ReadingsUpload.objects.filter(pk=upload_id, status=ReadingsUpload.Status.QUEUED).update(
            status=ReadingsUpload.Status.FAILED,
            error=f"The import could not be queued ({type(error).__name__}); try again.",
            finished_at=timezone.now(),
        )


def _staged_path(upload: ReadingsUpload) -> Path | None:
    path = upload_dir() / Path(upload.staged_name).name
    return path if path.is_file() else None


def _progress_key(upload_id: uuid.UUID | str) -> str:
    return f"meters:upload:{upload_id}:rows"


def _beat_key(upload_id: uuid.UUID | str) -> str:
    """When the running import last reported progress (epoch seconds): what `uploads_recover` reads."""
    return f"meters:upload:{upload_id}:beat"


def upload_rows_done(upload: ReadingsUpload) -> int:
    """Rows the running import has read so far (0 before it starts, the total once done)."""
    if upload.status == ReadingsUpload.Status.DONE and upload.result:
        return int(upload.rows_total or 0)
    return int(cache.get(_progress_key(upload.pk)) or 0)


def file_rows(path: Path) -> int | None:
    """Rows in a readings file, read cheaply: Parquet metadata, or a CSV's lines after its header."""
    try:
        if file_kind(path) == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        lines, last = 0, b"\n"
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
        return max(0, lines + (last != b"\n") - 1)
    except Exception:  # the import itself says what is wrong with the file
        return None


def upload_import(*, upload_id: str) -> str:
    """Import one confirmed upload (the task's body); returns its status. Safe to run twice."""
    with transaction.atomic():
        upload = ReadingsUpload.objects.select_for_update().filter(pk=upload_id).first()
        if upload is None or upload.status in (ReadingsUpload.Status.DONE, ReadingsUpload.Status.FAILED):
            return upload.status if upload is not None else "missing"
        path = _staged_path(upload)
        if path is None:
            _fail(upload, "The staged file is gone (it expired); choose the file again.")
            return upload.status
        upload.status, upload.started_at = ReadingsUpload.Status.IMPORTING, timezone.now()
        upload.attempts += 1
        upload.rows_total = file_rows(path)
        upload.save(update_fields=["status", "started_at", "attempts", "rows_total"])
    key, beat = _progress_key(upload.pk), _beat_key(upload.pk)
    done = 0
    cache.set_many({key: 0, beat: time.time()}, PROGRESS_SECONDS)

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        cache.set_many({key: done, beat: time.time()}, PROGRESS_SECONDS)

    try:
        with transaction.atomic():
            # The row stays locked until the readings commit or roll back, and is marked done in that same
            # commit: `uploads_recover` skips a row a live import holds, and an upload left "importing"
            # by a worker that died has stored nothing (PostgreSQL rolled its transaction back).
            locked = ReadingsUpload.objects.select_for_update().get(pk=upload.pk)
            if locked.status != ReadingsUpload.Status.IMPORTING:  # marked failed meanwhile, or done by a twin
                return locked.status
            site = None
            if upload.site_code and role_of(upload.user) is not Role.ADMIN:  # no longer an administrator
                raise SiteImportError("only administrators may create sites and meters from an upload")
            if upload.site_code:  # created in this transaction: a failed import leaves no empty site behind
                site, _ = site_for_import(
                    code=upload.site_code,
                    site_timezone=upload.site_timezone or None,
                    timestamps_timezone=upload.timezone or None,
                )
            result = readings_ingest_file(
                path=path,
                source=upload.source,
                user=upload.user,
                mapping=UploadOptions.of(upload).mapping(),
                timezone_name=upload.timezone or None,
                create_meters_in=site,
                zero_is_missing=upload.zero_is_missing,
                limits=FileLimits.for_uploads(),
                progress=progress,
            )
            _done(upload, result)
    except (FileFormatError, SiteImportError) as error:  # a bad file, or a site the import may not use
        _fail(upload, str(error))
        return upload.status
    except Exception as error:  # rolled back whole: nothing of the file is stored
        logger.exception("import of upload %s (%s) failed", upload.pk, upload.filename)
        _fail(upload, f"The import stopped ({type(error).__name__}: {str(error)[:300]}); nothing was stored.")
        return upload.status
    finally:
        cache.delete_many([key, beat])
    path.unlink(missing_ok=True)
    return upload.status


def _done(upload: ReadingsUpload, result: IngestResult) -> None:
    summary = result.summary()
    history = _history_cutoff()
    report = {
        "summary": summary,
        "rows": result.rows,
        "rejections": [
            {"row": item.row, "meter_serial": item.meter_serial, "reason": item.reason}
            for item in result.rejections[:REPORT_REJECTIONS]
        ],
        "long_gaps": [
            {
                "meter_id": gap.meter_id,
                "start": gap.start.isoformat(),
                "end": gap.end.isoformat(),
                "missing": gap.missing,
            }
            for gap in result.long_gaps[:REPORT_GAPS]
        ],
        "history_meters": sum(1 for span in result.ranges.values() if span.start < history),
    }
    upload.status, upload.result, upload.finished_at = ReadingsUpload.Status.DONE, report, timezone.now()
    upload.rows_total = max(upload.rows_total or 0, result.rows)
    upload.error = ""
    upload.save(update_fields=["status", "result", "finished_at", "rows_total", "error"])
    audit_record(actor=upload.user, action=AuditEntry.Action.IMPORT, target=upload.source, detail=summary)


def uploads_recover(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Queue again uploads whose message was lost; fail imports whose worker went away (see the module doc)."""
    now = now or timezone.now()
    requeue = dt.timedelta(minutes=settings.UPLOAD_REQUEUE_MINUTES)
    stall = dt.timedelta(minutes=settings.UPLOAD_STALL_MINUTES)
    waiting = (
        ReadingsUpload.objects.filter(status=ReadingsUpload.Status.QUEUED)
        .alias(since=Coalesce("queued_at", "created_at"))
        .filter(since__lt=now - requeue)
        .values_list("pk", flat=True)
    )
    requeued = 0
    for upload_id in list(waiting):
        with transaction.atomic():
            row = _lock_if_free(upload_id, ReadingsUpload.Status.QUEUED)
            if row is None:
                continue
            row.queued_at = now
            row.save(update_fields=["queued_at"])
            transaction.on_commit(functools.partial(_enqueue, row.pk))
        logger.warning("upload %s was still queued after %s: queued again", upload_id, requeue)
        requeued += 1
    failed = 0
    importing = ReadingsUpload.objects.filter(status=ReadingsUpload.Status.IMPORTING)
    for upload_id, started in importing.values_list("pk", "started_at"):
        seen = cache.get(_beat_key(upload_id))
        last = dt.datetime.fromtimestamp(seen, dt.UTC) if seen else (started or now)
        if now - last < stall:
            continue
        with transaction.atomic():
            row = _lock_if_free(upload_id, ReadingsUpload.Status.IMPORTING)
            if row is None:  # a live import holds it (PostgreSQL): still running, maybe slowly
                continue
            minutes = int(stall.total_seconds() // 60)
            _fail(
                row,
                f"The import stopped: it reported no progress for {minutes} minutes and its worker is gone; "
                "nothing was stored. Retry queues it again.",
            )
        logger.warning("upload %s stopped importing (no progress since %s): marked failed", upload_id, last)
        failed += 1
    return {"requeued": requeued, "failed": failed}


def _lock_if_free(upload_id: uuid.UUID, status: str) -> ReadingsUpload | None:
    """The upload with this status, locked; None when a running import holds it (or it moved on)."""
    return ReadingsUpload.objects.select_for_update(skip_locked=True).filter(pk=upload_id, status=status).first()


def _fail(upload: ReadingsUpload, reason: str) -> None:
    upload.status, upload.error, upload.finished_at = ReadingsUpload.Status.FAILED, reason[:500], timezone.now()
    upload.save(update_fields=["status", "error", "finished_at"])


def _history_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=settings.DETECTION_HISTORY_HOURS)


@dataclass
class UploadReport:
    """What the status page shows of a finished import (the figures the page showed before it was queued)."""

    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    estimated: int = 0
    gaps_left: int = 0
    skipped_missing: int = 0
    zeros_kept: int = 0
    meters_created: int = 0
    long_gaps: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    history_meters: int = 0

    @classmethod
    def of(cls, upload: ReadingsUpload) -> UploadReport | None:
        if upload.status != ReadingsUpload.Status.DONE or not upload.result:
            return None
        summary = upload.result.get("summary", {})
        return cls(
            accepted=int(summary.get("accepted", 0)),
            updated=int(summary.get("updated", 0)),
            unchanged=int(summary.get("unchanged", 0)),
            rejected=int(summary.get("rejected", 0)),
            estimated=int(summary.get("estimated", 0)),
            gaps_left=int(summary.get("long_gaps", 0)),
            skipped_missing=int(summary.get("skipped_missing", 0)),
            zeros_kept=int(summary.get("zeros_kept", 0)),
            meters_created=int(summary.get("meters_created", 0)),
            long_gaps=list(upload.result.get("long_gaps", [])),
            rejections=list(upload.result.get("rejections", [])),
            history_meters=int(upload.result.get("history_meters", 0)),
        )


def uploads_in_use() -> set[str]:
    """Staged file names of uploads still queued or importing (a failed one's file goes when stale)."""
    return set(
        ReadingsUpload.objects.filter(
            status__in=(ReadingsUpload.Status.QUEUED, ReadingsUpload.Status.IMPORTING)
        ).values_list("staged_name", flat=True)
    )
