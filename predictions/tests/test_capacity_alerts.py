"""A transformer forecast over its share of rating reaches the alert queue once, for managers only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from alerts.models import Alert
from customers.tests.factories import TransformerFactory
from predictions.forecasting.capacity_alerts import CapacityWarning, capacity_alert_raise


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
    capacity_alert_raise(warning)
    capacity_alert_raise(warning)  # the next hourly run finds it again: still one alert
    alert = Alert.objects.get(kind="transformer_capacity")
    assert "93%" in alert.title
    assert Alert.objects.visible_to(manager).filter(pk=alert.pk).exists()
    assert not Alert.objects.visible_to(warden_a).filter(pk=alert.pk).exists()
