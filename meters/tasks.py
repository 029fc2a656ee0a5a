"""Celery adapters for meters: thin, idempotent, calling one service or selector each."""

from __future__ import annotations

from celery import shared_task

from meters.ingest import meters_stale
from meters.signals import stale_meters_found


@shared_task(name="meters.tasks.meters_check_stale", ignore_result=False)
def meters_check_stale() -> dict[str, object]:
    """Find meters that stopped reporting and tell whoever listens (the alerts app connects to the signal)."""
    stale = meters_stale()
    if stale:
        stale_meters_found.send(sender=meters_check_stale, meters=stale)
    return {"stale": len(stale), "serials": [item.serial for item in stale[:20]]}


@shared_task(name="meters.tasks.upload_import", ignore_result=False, soft_time_limit=55 * 60, time_limit=60 * 60)
def upload_import(upload_id: str) -> dict[str, str]:
    """Import a file confirmed on the upload page (meters.uploads): done, or failed with its reason."""
    from meters.uploads import upload_import as run

    return {"upload": upload_id, "status": run(upload_id=upload_id)}


@shared_task(name="meters.tasks.uploads_recover", ignore_result=False)
def uploads_recover() -> dict[str, int]:
    """Queue again uploads whose import message was lost; mark imports whose worker went away as failed."""
    from meters.uploads import uploads_recover as recover

    return recover()


@shared_task(name="meters.tasks.uploads_clean_stale", ignore_result=False)
def uploads_clean_stale() -> dict[str, int]:
    """Remove staged uploads that were confirmed or abandoned more than UPLOAD_STAGED_HOURS ago."""
    from meters.services import uploads_clean_stale as clean

    return {"removed": clean()}


@shared_task(name="meters.tasks.quarantine_prune", ignore_result=False)
def quarantine_prune() -> dict[str, int]:
    """Delete quarantined rows older than QUARANTINE_RETENTION_DAYS."""
    from meters.ingest.quarantine import quarantine_prune as prune

    return {"deleted": prune()}


@shared_task(name="meters.tasks.readings_partitions_ensure", ignore_result=False)
def readings_partitions_ensure() -> dict[str, object]:
    """Create the readings' monthly partitions ahead and move stray rows out of the default partition."""
    from meters.partitions import reading_partitions_ensure

    return reading_partitions_ensure()


@shared_task(name="meters.tasks.readings_archive_due", ignore_result=False, time_limit=6 * 60 * 60)
def readings_archive_due() -> dict[str, object]:
    """Archive raw readings older than RAW_READINGS_KEEP_MONTHS whole months (nothing when it is 0)."""
    from django.conf import settings

    from meters.archive import readings_archive, readings_archive_cutoff

    before = readings_archive_cutoff()
    if before is None:
        return {"archived": 0, "files": [], "skipped": "RAW_READINGS_KEEP_MONTHS is 0"}
    return readings_archive(before=before, to=settings.READINGS_ARCHIVE_DIR).summary()
