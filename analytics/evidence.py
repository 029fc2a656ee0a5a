"""The evidence chart of an alert's page, composed here because it needs predictions' baseline.

`alerts` sits below `predictions` and `analytics`, so its detail view cannot import them. This
app, which may import both, registers `alert_evidence_build` with `alerts.evidence` in its
`AppConfig.ready`; the view asks the registry. Imports keep pointing down, and the alert page
stays where it is (one URL, one view, its actions unchanged).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from alerts.evidence import Evidence
from alerts.models import Alert, AlertKind
from alerts.templatetags.alert_times import alert_zone, local_text
from analytics import figures
from customers.models import TransformerCondition
from predictions.detection.evidence import anomalies_on_meter, meter_band_series

MIN_CONTEXT = dt.timedelta(days=1)
MAX_CONTEXT = dt.timedelta(days=7)

NO_SERIES: dict[str, str] = {
    AlertKind.TRANSFORMER_CAPACITY: "No chart here: this is a forecast warning, not something measured. "
    "The forecast against the transformer's rating is on the dashboard.",
    AlertKind.MODEL_UNFIT: "No chart: this alert is about a model, not one meter's readings. "
    "The system page shows the model versions and their fit.",
}


def _context(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Before and after the event: its own length, at least a day, at most a week."""
    return min(max(end - start, MIN_CONTEXT), MAX_CONTEXT)


def alert_evidence_build(*, alert: Alert, user: Any) -> Evidence | None:
    """The chart for an alert the user may see: its meter's readings against the expected band, or why none."""
    if alert.kind == AlertKind.TRANSFORMER_CONDITION:
        return _transformer_evidence(alert=alert)
    if alert.meter_id is None:
        return Evidence(
            figure_json=None,
            note=NO_SERIES.get(
                alert.kind, "No chart: this alert is not about one meter, so there is no series of readings to show."
            ),
        )
    now = timezone.now()
    start = alert.event_start or alert.first_seen_at
    end = alert.event_end
    spans: list[tuple[dt.datetime, dt.datetime, str]] = []
    finding_kind = (
        alert.source_payload.get("kind") if alert.kind in (AlertKind.ANOMALY, AlertKind.MAIN_IMBALANCE) else None
    )
    if finding_kind:
        margin = dt.timedelta(minutes=1)
        found = [
            a
            for a in anomalies_on_meter(
                user=user, meter_id=alert.meter_id, start=start - margin, end=(end or alert.last_seen_at) + margin
            )
            if a.kind == finding_kind
        ]
        if found:
            # Incidents grow while they last (detection extends them): their stored span is the truest.
            start, end = min(a.start for a in found), max(a.end for a in found)
            spans = [(a.start, a.end, a.get_kind_display()) for a in found]
    shown_end = end or now
    if not spans:
        label = "silent" if alert.kind == AlertKind.STALE_METER else alert.get_kind_display()
        spans = [(start, max(shown_end, start + dt.timedelta(minutes=15)), label)]
    context = _context(start, shown_end)
    series = meter_band_series(meter_id=alert.meter_id, start=start - context, end=min(shown_end + context, now))
    zone = alert_zone(alert)
    serial = alert.meter.serial if alert.meter else str(alert.meter_id)
    if not series.ts:
        return Evidence(
            figure_json=None,
            note=f"No chart: {serial} sent no readings between {local_text(start - context, zone)} "
            f"and {local_text(min(shown_end + context, now), zone)}.",
            start=start,
            end=end,
        )
    if series.expected is None:
        note = "No expected band: no anomaly baseline is trained yet (manage.py train_baseline)."
    elif not series.fit:
        note = "The baseline fits this meter poorly (ASHRAE Guideline 14), so consumption alerts on it are muted."
    else:
        note = ""
    figure = figures.alert_evidence_figure(series, spans, title="", zone=zone)  # the caption says what it is
    return Evidence(
        figure_json=figures.to_json(figure),
        note=note,
        start=start,
        end=end,
        caption=f"{serial}, kWh per hour: the event shaded, {_days(context)} either side; times in {zone.key}.",
        spans=tuple((a, b) for a, b, _ in spans) if len(spans) > 1 else (),
    )


def _days(delta: dt.timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:.0f} day{'s' if round(days) != 1 else ''}" if days >= 1 else f"{delta.total_seconds() / 3600:.0f} h"


def _transformer_evidence(*, alert: Alert) -> Evidence:
    transformer_id = alert.source_payload.get("transformer_id")
    if not isinstance(transformer_id, int):
        return Evidence(figure_json=None, note="No chart: the alert does not say which transformer it is about.")
    start = alert.event_start or alert.first_seen_at
    end = max(alert.last_seen_at, start + dt.timedelta(hours=1))
    context = _context(start, end)
    points = list(
        TransformerCondition.objects.filter(
            transformer_id=transformer_id, measured_at__gte=start - context, measured_at__lte=end + context
        ).order_by("measured_at")
    )
    if not points:
        return Evidence(figure_json=None, note="No chart: the transformer's condition readings are no longer stored.")
    zone = alert_zone(alert)
    figure = figures.transformer_condition_figure(
        points,
        [(start, end, "alarm")],
        title="Transformer condition",
        zone=zone,
        oil_alarm=float(settings.TRANSFORMER_TOP_OIL_ALARM_C),
    )
    return Evidence(
        figure_json=figures.to_json(figure),
        start=start,
        end=alert.event_end,
        caption=f"Top-oil temperature and dissolved gas, {_days(context)} either side of the alarm; "
        f"times in {zone.key}.",
    )
