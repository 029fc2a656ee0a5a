"""Signals from lower apps that become alerts: meters that stopped reporting, transformers running hot."""

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
            event_start=stale.last_reading_at,
            source_payload={"meter_id": stale.meter_id, "silent_hours": round(hours, 2)},
        )


# IEEE C57.91 limits top oil to 105 °C; operators alarm well before. TDCG above 1,920 ppm is IEEE
# C57.104's condition 3 ("high decomposition"). Both can be set in the settings.
TOP_OIL_ALARM_C = 95.0
GAS_ALARM_PPM = 1920.0
TOP_OIL_LIMIT_C = 105.0  # past these it is critical: the standard's limit, C57.104's condition 4
GAS_CRITICAL_PPM = 4630.0


def on_transformer_condition_ingested(*, latest: list[tuple[Any, ...]], **_: Any) -> None:
    """A transformer whose newest condition reading is past an alarm level gets one (deduplicated) alert."""
    from django.conf import settings

    from alerts.services import alert_raise
    from customers.models import Transformer

    oil_limit = float(getattr(settings, "TRANSFORMER_TOP_OIL_ALARM_C", TOP_OIL_ALARM_C))
    gas_limit = float(getattr(settings, "TRANSFORMER_GAS_ALARM_PPM", GAS_ALARM_PPM))
    alarming = [
        row
        for row in latest
        if (row[2] is not None and row[2] >= oil_limit) or (row[3] is not None and row[3] >= gas_limit)
    ]
    codes = dict(Transformer.objects.filter(pk__in=[row[0] for row in alarming]).values_list("pk", "code"))
    for pk, at, oil, gas in alarming:
        code = codes.get(pk, str(pk))
        found = []
        if oil is not None and oil >= oil_limit:
            found.append(f"top oil {oil:.1f} °C (alarm at {oil_limit:.0f} °C)")
        if gas is not None and gas >= gas_limit:
            found.append(f"dissolved combustible gas {gas:,.0f} ppm (alarm at {gas_limit:,.0f} ppm)")
        alert_raise(
            kind=AlertKind.TRANSFORMER_CONDITION,
            title=f"Transformer {code}: " + (" and ".join(part.split(" (")[0] for part in found)),
            explanation=f"Its monitor read {' and '.join(found)} at {at:%Y-%m-%d %H:%M} UTC.",
            score=1.0 if (oil or 0) >= TOP_OIL_LIMIT_C or (gas or 0) >= GAS_CRITICAL_PPM else None,
            dedupe_key=f"transformer_condition:{pk}",
            event_start=at,
            source_payload={"transformer_id": pk, "measured_at": at.isoformat(), "top_oil_c": oil, "gas_ppm": gas},
        )
