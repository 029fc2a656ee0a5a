"""The alert event log keeps closed alerts' lines ALERT_EVENT_RETENTION_DAYS; open alerts keep theirs all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertEvent
from alerts.tasks import alert_events_prune_task
from conftest import Campus


@pytest.mark.django_db
def test_old_lines_of_closed_alerts_go_and_open_alerts_keep_theirs(campus: Campus, settings: Any) -> None:
    settings.ALERT_EVENT_RETENTION_DAYS = 30
    old = timezone.now() - dt.timedelta(days=45)
    closed = services.alert_raise(kind="anomaly", title="old and resolved", meter=campus.meter_a, at=old)
    still_open = services.alert_raise(kind="stale_meter", title="old and open", meter=campus.meter_b, at=old)
    Alert.objects.filter(pk=closed.pk).update(status=Alert.Status.RESOLVED)
    AlertEvent.objects.update(recorded_at=old)
    recent = services.alert_raise(kind="anomaly", title="new", meter=campus.meter_a, dedupe_key="new")
    Alert.objects.filter(pk=recent.pk).update(status=Alert.Status.RESOLVED)

    lines = AlertEvent.objects.filter(alert=closed).count()
    assert lines >= 1
    assert alert_events_prune_task() == {"deleted": lines}
    assert not AlertEvent.objects.filter(alert=closed).exists()
    assert AlertEvent.objects.filter(alert=still_open).exists()
    assert AlertEvent.objects.filter(alert=recent).exists()
    assert alert_events_prune_task() == {"deleted": 0}
