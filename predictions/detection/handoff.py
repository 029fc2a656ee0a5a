"""The seam between detection and alerts: new, unmuted anomalies become alerts.

`predictions` sits above `alerts` (DESIGN.md) and calls `alert_raise` directly: every anomaly is
raised with a dedupe key derived from the anomaly's own, so re-running detection only repeats the alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from alerts.services import alert_event_follow, alert_raise
from predictions.models import Anomaly

logger = logging.getLogger(__name__)

ALERT_KIND = {"main_imbalance": "main_imbalance"}  # everything else is an "anomaly" alert
# The most severe a kind's alert can be, however sure detection is. A working day that ran like a closed
# day wastes nothing: someone should add it to the calendar or check the plant, but not within minutes
# (its score says how closed-like the day was, which made a sure Christmas closure "critical").
SEVERITY_CEILING: dict[str, str] = {Anomaly.Kind.CLOSURE_UNEXPECTED: "medium"}
# Found in stored history, a meter's past silence or stuck reading is missing data, not a visit to make: the
# import's report lists its gaps, and a meter silent now raises its own stale-meter alert. The Cambridge scan
# put 19 such "high" alerts of 2018-2019 above every closure and waste in the inbox.
HISTORY_SEVERITY_CEILING: dict[str, str] = {
    Anomaly.Kind.DEAD_METER: "low",
    Anomaly.Kind.FLAT_LINE: "low",
    Anomaly.Kind.METER_REPLACEMENT: "low",
}


def _ceiling(anomaly: Anomaly, *, history: bool) -> str | None:
    if history and anomaly.kind in HISTORY_SEVERITY_CEILING:
        return HISTORY_SEVERITY_CEILING[anomaly.kind]
    return SEVERITY_CEILING.get(anomaly.kind)


def _keys(anomaly: Anomaly) -> tuple[str, str, str]:
    """The alert kind, dedupe key (this anomaly) and group key (its meter and kind) an anomaly is raised with."""
    kind = ALERT_KIND.get(anomaly.kind, "anomaly")
    return (
        kind,
        f"anomaly:{anomaly.meter_id}:{anomaly.kind}:{anomaly.pk}",
        f"{kind}:meter:{anomaly.meter_id}:{anomaly.kind}",
    )


def anomalies_to_alerts(
    *, anomalies: Iterable[Anomaly], raise_alert: Callable[..., Any] | None = None, history: bool = False
) -> int:
    """Raise an alert for each open anomaly; returns how many were handed over.

    `history=True`: found in stored history; raised at the anomaly's own start and marked so (no push or email).
    """
    raise_alert = raise_alert or alert_raise
    rows = list(anomalies)
    handed = 0
    for anomaly in rows:
        if anomaly.status != Anomaly.Status.OPEN:
            continue
        kind, dedupe_key, group_key = _keys(anomaly)
        raise_alert(
            kind=kind,
            title=f"{anomaly.get_kind_display()} on {anomaly.meter.serial}",
            explanation=anomaly.explanation,
            hostel=anomaly.hostel,
            room=anomaly.room,
            meter=anomaly.meter,
            score=anomaly.score,
            excess_cost=anomaly.excess_cost,
            dedupe_key=dedupe_key,
            # Another incident of the same kind on the meter soon after joins this alert (a count, no new toast).
            group_key=group_key,
            event_start=anomaly.start,
            event_end=anomaly.end,
            source_payload={
                "anomaly_id": anomaly.pk,
                "kind": anomaly.kind,
                "start": anomaly.start.isoformat(),
                "end": anomaly.end.isoformat(),
            },
            history=history,
            at=anomaly.start if history else None,
            severity_ceiling=_ceiling(anomaly, history=history),
        )
        handed += 1
    if handed:
        Anomaly.objects.filter(pk__in=[a.pk for a in rows if a.status == Anomaly.Status.OPEN]).update(alerted=True)
    return handed


def alerts_follow(*, anomalies: Iterable[Anomaly]) -> int:
    """Alerted anomalies that detection has since extended: their alerts take the new span and explanation."""
    changed = 0
    for anomaly in anomalies:
        _, dedupe_key, group_key = _keys(anomaly)
        changed += alert_event_follow(
            dedupe_key=dedupe_key,
            group_key=group_key,
            anomaly_id=anomaly.pk,
            event_start=anomaly.start,
            event_end=anomaly.end,
            explanation=anomaly.explanation,
            excess_cost=anomaly.excess_cost,
        )
    return changed
