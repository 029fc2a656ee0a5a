"""Streaming detection: every committed ingest batch enqueues detection for its meters and intervals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction


def on_readings_ingested(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime, **_: Any) -> None:
    """Enqueue detection after commit; `end` is the last interval start written, so look one hour past it."""
    from predictions.tasks import detect_meters

    if not meter_ids:
        return
    window_end = end + dt.timedelta(hours=1)
    transaction.on_commit(
        lambda: detect_meters.delay(meter_ids=list(meter_ids), start=start.isoformat(), end=window_end.isoformat())
    )
