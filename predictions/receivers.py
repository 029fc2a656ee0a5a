"""Streaming detection: every committed ingest batch asks for detection of its meters and intervals (coalesced)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction


def on_readings_ingested(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime, **_: Any) -> None:
    """Enqueue detection after commit; `end` is the last interval start written, so look one hour past it.

    The part older than settings.DETECTION_HISTORY_HOURS is history (an imported file, a long backfill):
    it is scanned as such, its findings summed up in one notification instead of a toast and email each.
    """
    from predictions.detection.history import history_cutoff, history_scan_request
    from predictions.detection.streaming import detection_request

    if not meter_ids:
        return
    ids = list(meter_ids)
    window_end = end + dt.timedelta(hours=1)
    cutoff = history_cutoff()
    if start < cutoff:
        history_end = min(window_end, cutoff)
        transaction.on_commit(lambda: history_scan_request(meter_ids=ids, start=start, end=history_end))
    if window_end > cutoff:
        live_start = max(start, cutoff)
        transaction.on_commit(lambda: detection_request(meter_ids=ids, start=live_start, end=window_end))
