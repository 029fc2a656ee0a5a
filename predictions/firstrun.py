"""What a new installation does once its history is stored: scan it, and train what the dashboards show.

`config.serve` calls `first_run_queue()` when it starts (with the embedded worker running, or with
tasks going to the separate worker over Redis); `manage.py first_run` does the same by hand.
Everything it queues is recorded in the database and shown on the system page.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from predictions.detection.history import first_run_scan_ensure, history_scans_resume
from predictions.initial_training import initial_training_ensure


def first_run_queue() -> dict[str, Any]:
    """Queue the history scan first (the inbox), any import scan a restart interrupted, then each first training."""
    with transaction.atomic():
        scan = first_run_scan_ensure()
        resumed = history_scans_resume()
        trained = initial_training_ensure()
    return {
        "history_scan": scan.pk if scan else None,
        "scan_status": scan.status if scan else None,
        "training_queued": trained,
        "import_scans_resumed": resumed,
    }
