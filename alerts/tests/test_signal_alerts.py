"""Stale meters reach the alert queue, once per problem."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from alerts.models import Alert
from meters.ingest import StaleMeter
from meters.signals import stale_meters_found


@pytest.mark.django_db
def test_a_stale_meter_raises_one_alert_in_its_hostel_even_when_checked_twice(campus: Any) -> None:
    stale = StaleMeter(
        meter_id=campus.meter_a.id,
        serial=campus.meter_a.serial,
        hostel_id=campus.hostel_a.id,
        room_id=campus.room_a.id,
        last_reading_at=timezone.now() - dt.timedelta(hours=3),
        silent_for=dt.timedelta(hours=3),
        interval_minutes=15,
    )
    stale_meters_found.send(sender=None, meters=[stale])
    stale_meters_found.send(sender=None, meters=[stale])
    alerts = Alert.objects.filter(kind="stale_meter")
    assert alerts.count() == 1
    alert = alerts.get()
    assert alert.hostel_id == campus.hostel_a.id
    assert "RM-A-101" in alert.title
    assert "3.0 h" in alert.explanation
