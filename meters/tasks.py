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
