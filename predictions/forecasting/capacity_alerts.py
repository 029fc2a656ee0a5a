"""A transformer forecast above its configured share of rating becomes a (deduplicated) alert.

`predictions` sits above `alerts` (DESIGN.md), so forecasting calls `alert_raise` directly, after
its forecasts are committed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alerts.models import AlertKind
from alerts.services import alert_raise


@dataclass(frozen=True)
class CapacityWarning:
    """A transformer forecast to run above the configured share of its rating."""

    transformer_id: int
    transformer_code: str
    capacity_kva: float
    peak_kva: float
    peak_at: dt.datetime
    share: float
    threshold: float
    model_version_id: int | None


def capacity_alert_raise(warning: CapacityWarning) -> None:
    """Raise (or repeat, by its dedupe key) the capacity alert for one transformer's forecast."""
    alert_raise(
        kind=AlertKind.TRANSFORMER_CAPACITY,
        title=f"Transformer {warning.transformer_code} forecast at {warning.share:.0%} of its rating",
        explanation=(
            f"Forecast peak {warning.peak_kva:.0f} kVA at {warning.peak_at:%Y-%m-%d %H:%M} UTC on a "
            f"{warning.capacity_kva:.0f} kVA transformer (alert threshold {warning.threshold:.0%})."
        ),
        score=warning.share,
        dedupe_key=f"transformer_capacity:{warning.transformer_id}",
        source_payload={
            "transformer_id": warning.transformer_id,
            "peak_kva": warning.peak_kva,
            "peak_at": warning.peak_at.isoformat(),
            "model_version_id": warning.model_version_id,
        },
    )
