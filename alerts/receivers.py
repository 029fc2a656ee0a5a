"""Signals from lower apps that become alerts: meters that stopped reporting."""

from __future__ import annotations

from typing import Any

from alerts.models import AlertKind


def on_stale_meters_found(*, meters: list[Any], **_: Any) -> None:
    """One alert per silent meter; a repeat check updates the same open alert (dedupe key per meter)."""
    from alerts.services import alert_raise
    from meters.models import Meter

    by_id = {
        meter.id: meter
        for meter in Meter.objects.select_related("room", "hostel").filter(id__in=[m.meter_id for m in meters])
    }
    for stale in meters:
        meter = by_id.get(stale.meter_id)
        if meter is None:
            continue
        hours = stale.silent_for.total_seconds() / 3600
        since = (
            f"since {stale.last_reading_at:%Y-%m-%d %H:%M} UTC" if stale.last_reading_at else "since it was installed"
        )
        alert_raise(
            kind=AlertKind.STALE_METER,
            title=f"Meter {stale.serial} stopped reporting",
            explanation=(
                f"No reading from {stale.serial} {since} ({hours:.1f} h; "
                f"it reports every {stale.interval_minutes} min)."
            ),
            meter=meter,
            dedupe_key=f"stale_meter:{stale.meter_id}",
            source_payload={"meter_id": stale.meter_id, "silent_hours": round(hours, 2)},
        )
