"""Transformer condition readings posted to the API raise one alert per transformer, for managers only."""

from __future__ import annotations

from typing import Any

import pytest

from alerts.models import Alert
from conftest import client_for
from customers.tests.factories import TransformerFactory
from meters.tests.test_condition_api import post


@pytest.mark.django_db(transaction=True)
def test_a_transformer_running_hot_or_gassing_raises_one_alert_for_managers(
    campus: Any, manager: Any, warden_a: Any
) -> None:
    TransformerFactory.create(code="TX-1")
    TransformerFactory.create(code="TX-2")
    normal = [{"transformer": "TX-1", "measured_at": "2025-06-01T15:00:00Z", "top_oil_c": 70, "dissolved_gas_ppm": 300}]
    post(client_for(manager), normal)
    assert not Alert.objects.exists()
    hot = [
        {"transformer": "TX-1", "measured_at": "2025-06-02T14:00:00Z", "top_oil_c": 99.0},  # older than the next
        {"transformer": "TX-1", "measured_at": "2025-06-02T15:00:00Z", "top_oil_c": 97.5, "dissolved_gas_ppm": 2400},
        {"transformer": "TX-2", "measured_at": "2025-06-02T15:00:00Z", "top_oil_c": 60.0, "dissolved_gas_ppm": 200},
    ]
    post(client_for(manager), hot)
    post(client_for(manager), [hot[1] | {"measured_at": "2025-06-02T16:00:00Z"}])  # still hot: the same alert
    alert = Alert.objects.get()
    assert alert.kind == "transformer_condition"
    assert alert.severity == "high"
    assert alert.title == "Transformer TX-1: top oil 97.5 °C and dissolved combustible gas 2,400 ppm"
    assert "2025-06-02 16:00 UTC" in alert.explanation
    assert Alert.objects.visible_to(manager).filter(pk=alert.pk).exists()
    assert not Alert.objects.visible_to(warden_a).filter(pk=alert.pk).exists()
    post(client_for(manager), [{"transformer": "TX-2", "measured_at": "2025-06-03T15:00:00Z", "top_oil_c": 108}])
    assert Alert.objects.get(title__startswith="Transformer TX-2").severity == "critical"  # past the 105 °C limit
