"""Ingestion and data quality: every way readings arrive, validated, idempotent and fast.

Modules: parse (CSV/Parquet in chunks), validate (per-row reasons), registers (cumulative
index to interval kWh), upsert (PostgreSQL COPY + ON CONFLICT, SQLite executemany), gaps
(estimates for short gaps), rollups (incremental hourly and local-day rollups), stale
(meters that stopped reporting), service (the orchestration), weather and occupancy imports.
"""

from meters.ingest.gaps import gaps_fill, gaps_find
from meters.ingest.parse import ColumnMap, FileFormatError, preview_rows, readings_chunks, records_chunk
from meters.ingest.rollups import local_day_bounds, rollups_update
from meters.ingest.service import quarantine_reprocess, readings_ingest, readings_ingest_file
from meters.ingest.stale import StaleMeter, meters_stale
from meters.ingest.types import Gap, IngestResult, MeterRange, Rejection

__all__ = [
    "ColumnMap",
    "FileFormatError",
    "Gap",
    "IngestResult",
    "MeterRange",
    "Rejection",
    "StaleMeter",
    "gaps_fill",
    "gaps_find",
    "local_day_bounds",
    "meters_stale",
    "preview_rows",
    "quarantine_reprocess",
    "readings_chunks",
    "readings_ingest",
    "readings_ingest_file",
    "records_chunk",
    "rollups_update",
]
