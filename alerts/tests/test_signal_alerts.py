"""Stale meters and transformer capacity forecasts reach the alert queue, once per problem."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from alerts.models import Alert
from customers.tests.factories import TransformerFactory
from meters.ingest import StaleMeter
from meters.signals import stale_meters_found
from predictions.forecasting.services import CapacityWarning
from predictions.signals import capacity_forecast_exceeded


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


@pytest.mark.django_db
def test_a_capacity_forecast_raises_a_transformer_alert_visible_to_managers_only(
    campus: Any, manager: Any, warden_a: Any
) -> None:
    transformer = TransformerFactory.create(code="TX-9", capacity_kva=400)
    warning = CapacityWarning(
        transformer_id=transformer.id,
        transformer_code="TX-9",
        capacity_kva=400,
        peak_kva=372,
        peak_at=timezone.now() + dt.timedelta(hours=20),
        share=0.93,
        threshold=0.8,
        model_version_id=None,
    )
    capacity_forecast_exceeded.send(sender="predictions.forecasting", warning=warning)
    alert = Alert.objects.get(kind="transformer_capacity")
    assert "93%" in alert.title
    assert Alert.objects.visible_to(manager).filter(pk=alert.pk).exists()
    assert not Alert.objects.visible_to(warden_a).filter(pk=alert.pk).exists()
