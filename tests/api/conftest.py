"""The personas' campus, filled in for the API: accounts, a transformer, weather, occupancy, rollups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from customers.models import Customer, Transformer
from customers.tests.factories import CustomerFactory, TransformerFactory
from meters.models import Occupancy, Reading, Weather
from meters.services import gateway_token_create, rollups_rebuild
from predictions.models import Anomaly, Forecast, ModelVersion, TransformerRisk

T0 = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)


@dataclass
class Estate:
    campus: Any
    customer_a: Customer
    customer_b: Customer
    transformer_a: Transformer
    transformer_b: Transformer
    occupancy_a: Occupancy
    occupancy_b: Occupancy
    gateway_key: str
    forecast_a: Forecast
    forecast_b: Forecast
    risk_a: TransformerRisk
    risk_b: TransformerRisk
    anomaly_a: Anomaly
    anomaly_b: Anomaly


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> None:
    cache.clear()


@pytest.fixture
def estate(campus: Any) -> Estate:
    customer_a = CustomerFactory.create(name="Room A-101")
    customer_b = CustomerFactory.create(name="Room B-101")
    transformer_a = TransformerFactory.create(code="TX-A")
    transformer_b = TransformerFactory.create(code="TX-B")
    for room, meter, customer, transformer in [
        (campus.room_a, campus.meter_a, customer_a, transformer_a),
        (campus.room_b, campus.meter_b, customer_b, transformer_b),
    ]:
        room.customer = customer
        room.save()
        meter.customer, meter.transformer = customer, transformer
        meter.save()
        Reading.objects.bulk_create(
            Reading(meter=meter, timestamp=T0 + dt.timedelta(minutes=15 * k), kwh=0.1 + k / 100, voltage=230.0)
            for k in range(8)
        )
    rollups_rebuild(meter_ids=[campus.meter_a.id, campus.meter_b.id], start=T0, end=T0 + dt.timedelta(days=1))
    Weather.objects.create(site=campus.hostel_a.site, timestamp=T0, temperature_c=6.0)
    occupancy_a = Occupancy.objects.create(room=campus.room_a, start=T0, occupants=3)
    occupancy_b = Occupancy.objects.create(room=campus.room_b, start=T0, occupants=2)
    _, key = gateway_token_create(name="gw-a", meter_ids=[campus.meter_a.id])
    forecasts = [
        Forecast.objects.create(
            subject_kind="hostel",
            subject_id=hostel.pk,
            hostel=hostel,
            horizon="hourly",
            target=T0,
            issued_at=T0,
            yhat=1.0,
            lower=0.5,
            upper=1.5,
        )
        for hostel in (campus.hostel_a, campus.hostel_b)
    ]
    risks = [
        TransformerRisk.objects.create(transformer=transformer, probability=0.2, computed_at=T0)
        for transformer in (transformer_a, transformer_b)
    ]
    anomalies = [
        Anomaly.objects.create(
            meter=meter,
            hostel=meter.room.hostel,
            room=meter.room,
            kind="night_usage",
            start=T0,
            end=T0 + dt.timedelta(hours=2),
            score=0.9,
            explanation="Night usage.",
            dedupe_key=f"test:{meter.pk}",
        )
        for meter in (campus.meter_a, campus.meter_b)
    ]
    ModelVersion.objects.create(family="forecast", subject="A", format_version=1, metrics={"cv_rmse": 0.2})
    return Estate(
        campus,
        customer_a,
        customer_b,
        transformer_a,
        transformer_b,
        occupancy_a,
        occupancy_b,
        key,
        forecast_a=forecasts[0],
        forecast_b=forecasts[1],
        risk_a=risks[0],
        risk_b=risks[1],
        anomaly_a=anomalies[0],
        anomaly_b=anomalies[1],
    )


def api_for(user: Any | None = None, *, gateway_key: str | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if gateway_key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Gateway {gateway_key}")
    return client
