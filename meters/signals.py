"""Signals other apps connect to; meters never imports them.

readings_ingested(sender, meter_ids: list[int], start: datetime, end: datetime)
    Sent once per committed ingest batch (never for a rolled-back one), after rollups are up to
    date. `start` and `end` are the first and last interval starts written (UTC, inclusive),
    across all `meter_ids`. The detection issue connects to this and enqueues its work.

stale_meters_found(sender, meters: list[meters.ingest.StaleMeter])
    Sent by the periodic stale-meter check (meters.tasks.meters_check_stale) when some meters
    stopped reporting. The alerts issue may connect to it, or call meters_stale() itself.

transformer_condition_ingested(sender, latest: list[tuple[int, datetime, float | None, float | None]])
    Sent after a committed batch of transformer condition readings: per transformer in it, its
    newest reading as (transformer id, measured_at, top_oil_c, dissolved_gas_ppm). Alerts connect
    to it to say that a transformer runs hot or gasses.
"""

from __future__ import annotations

from django.dispatch import Signal

readings_ingested = Signal()
stale_meters_found = Signal()
transformer_condition_ingested = Signal()
