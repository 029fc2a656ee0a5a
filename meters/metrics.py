"""Prometheus counters of ingestion (exported at /metrics by config.metrics; multi-process safe)."""

from __future__ import annotations

from prometheus_client import Counter

READINGS_INGESTED = Counter(
    "wattwatch_readings_ingested", "Readings stored (new or changed), by sender kind.", ["sender"]
)
READINGS_REJECTED = Counter(
    "wattwatch_readings_rejected", "Input rows rejected (quarantined), by sender kind.", ["sender"]
)
