"""Detection's handoff groups incidents of one kind on one meter into the alert already open for them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from alerts.models import Alert
from predictions.detection.handoff import anomalies_to_alerts
from predictions.models import Anomaly

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 3, 3, 22, 0, tzinfo=dt.UTC)


def incident(campus: Any, hours: float, kind: str = "sustained_excess") -> Anomaly:
    start = T0 + dt.timedelta(hours=hours)
    return Anomaly.objects.create(
        meter=campus.meter_a,
        hostel=campus.hostel_a,
        room=campus.room_a,
        kind=kind,
        start=start,
        end=start + dt.timedelta(hours=2),
        score=0.8,
        explanation=f"{kind} at {start:%H:%M}",
        dedupe_key=f"{campus.meter_a.pk}:{kind}:{start:%Y%m%dT%H%M}",
    )


def test_a_second_incident_of_the_same_kind_on_the_meter_joins_the_open_alert(campus: Any) -> None:
    anomalies_to_alerts(anomalies=[incident(campus, 0)])
    anomalies_to_alerts(anomalies=[incident(campus, 6), incident(campus, 7, kind="spike")])
    grouped = Alert.objects.get(source_payload__kind="sustained_excess")
    assert grouped.occurrences == 2
    assert (grouped.event_start, grouped.event_end) == (T0, T0 + dt.timedelta(hours=8))
    assert Alert.objects.count() == 2  # the spike is another kind: its own alert
