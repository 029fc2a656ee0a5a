"""Manager overview additions: forecasts with intervals, transformer risk, segments, alert queue; scoped exports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.services import alert_raise
from conftest import client_for
from customers.models import Segment
from customers.tests.factories import CustomerFactory, TransformerFactory
from predictions.models import Forecast, TransformerRisk


@pytest.fixture
def outputs(campus: Any) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    site = campus.hostel_a.site
    for i in range(-3, 3):
        target = now + dt.timedelta(hours=i)
        actual = 10.0 + i if i < 0 else None
        Forecast.objects.create(
            subject_kind="site",
            subject_id=site.pk,
            site=site,
            horizon="hourly",
            target=target,
            issued_at=now - dt.timedelta(hours=4),
            yhat=10.0,
            lower=8.0,
            upper=12.0,
            actual=actual,
        )
        for hostel in (campus.hostel_a, campus.hostel_b):
            Forecast.objects.create(
                subject_kind="hostel",
                subject_id=hostel.pk,
                hostel=hostel,
                horizon="hourly",
                target=target,
                issued_at=now - dt.timedelta(hours=4),
                yhat=5.0,
                lower=4.0,
                upper=6.0,
            )
    tx_a = TransformerFactory.create(code="TX-A")
    tx_b = TransformerFactory.create(code="TX-B")
    campus.meter_a.transformer = tx_a
    campus.meter_a.save()
    campus.meter_b.transformer = tx_b
    campus.meter_b.save()
    factors = [
        {"feature": "age_years", "value": 31, "contribution": 0.21},
        {"feature": "overload_hours", "value": 40, "contribution": 0.12},
    ]
    condition = {"top_oil_max_7d": 78.4, "top_oil_excess_7d": 6.13, "dissolved_gas_ppm": 1240.0}
    TransformerRisk.objects.create(
        transformer=tx_a, probability=0.61, factors=factors, features=condition, computed_at=now
    )
    TransformerRisk.objects.create(transformer=tx_b, probability=0.12, factors=factors[1:], computed_at=now)
    owls = Segment.objects.create(
        code="night-owls", name="Night owls", recommendation="=cmd|' /C calc'!A0", expected_saving_pct=7.5
    )
    early = Segment.objects.create(code="early", name="Early birds", recommendation="Shift laundry")
    campus.room_a.customer = CustomerFactory.create(segment=owls)
    campus.room_a.save()
    campus.room_b.customer = CustomerFactory.create(segment=early)
    campus.room_b.save()
    alert_raise(
        kind="anomaly",
        title="Room A-101 drawing twice its usual",
        hostel=campus.hostel_a,
        room=campus.room_a,
        meter=campus.meter_a,
    )
    alert_raise(
        kind="anomaly",
        title="Room B-101 drawing twice its usual",
        hostel=campus.hostel_b,
        room=campus.room_b,
        meter=campus.meter_b,
    )


@pytest.mark.django_db
def test_no_model_output_says_so_plainly(campus: Any, manager: Any) -> None:
    body = client_for(manager).get(reverse("dashboard")).content.decode()
    assert "No forecast yet — runs hourly." in body
    assert "No transformer risk scores yet" in body
    assert "No segments yet" in body
    assert "No open alerts." in body


@pytest.mark.django_db
def test_manager_sees_site_forecast_band_risks_segments_and_queue(outputs: None, manager: Any) -> None:
    client = client_for(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    # 22 before kg CO2, which adds three: one per time zone for the hostels' rows, two for the total.
    assert len(queries) <= 25, [q["sql"] for q in queries]
    body = response.content.decode()
    assert 'id="fig-forecast"' in body
    assert "Forecast against actual: Whole site" in body
    assert "5-95 % interval" in body
    assert "TX-A" in body
    assert "TX-B" in body
    assert "age 31 years (+0.21)" in body
    assert "top oil 78 °C (+6.1 °C), gas 1,240 ppm" in body  # TX-A has a monitor, TX-B none
    assert "Night owls" in body
    assert "7.5 %" in body
    assert "Room A-101 drawing" in body
    assert "Room B-101 drawing" in body
    assert "/alerts/" in body
    forecast_csv = client.get(reverse("dashboard-forecast-csv")).content.decode().splitlines()
    assert forecast_csv[0].startswith("subject,hour,forecast_kwh,lower_kwh,upper_kwh")
    assert len(forecast_csv) == 7
    segments_csv = client.get(reverse("dashboard-segments-csv")).content.decode()
    assert "'=cmd" in segments_csv  # formula neutralised


@pytest.mark.django_db
def test_warden_sees_only_their_hostel_forecast_and_alerts_not_risk_or_segments(
    outputs: None, campus: Any, warden_b: Any
) -> None:
    client = client_for(warden_b)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("dashboard")).content.decode()
    assert len(queries) <= 25  # 22 before kg CO2 (three more: see the manager's test)
    assert "Whole site" not in body
    assert "Forecast against actual: Hostel B" in body
    # Transformer risk and customer segments are for managers and admins: not on a warden's dashboard.
    assert "TX-B" not in body
    assert "TX-A" not in body
    assert "Early birds" not in body
    assert "Night owls" not in body
    assert "Room B-101 drawing" in body
    assert "Room A-101" not in body
    # Asking for the site or another hostel's forecast falls back to what the warden may see.
    site_key = f"site-{campus.hostel_a.site.pk}"
    body = client.get(reverse("dashboard"), {"forecast": site_key}).content.decode()
    assert "Forecast against actual: Hostel B" in body
    export = client.get(reverse("dashboard-forecast-csv"), {"forecast": f"hostel-{campus.hostel_a.pk}"})
    assert "Hostel A" not in export.content.decode()
    assert client.get(reverse("dashboard-risks-csv")).status_code == 403
    assert client.get(reverse("dashboard-segments-csv")).status_code == 403
    alerts_csv = client.get(reverse("dashboard-alerts-csv")).content.decode()
    assert "B-101" in alerts_csv
    assert "A-101" not in alerts_csv


@pytest.mark.django_db
def test_a_false_alarm_leaves_the_dashboards_open_alerts(campus: Any, warden_a: Any, manager: Any) -> None:
    from alerts.services import alert_feedback
    from analytics.selectors.insights import alert_queue_for_user

    alert = alert_raise(
        kind="anomaly",
        title="Room A-101 uses twice its usual night energy",
        explanation="4.1 kWh expected 1.9 kWh",
        meter=campus.meter_a,
        score=0.7,
        dedupe_key="anomaly:room-a-101",
    )
    assert [a.pk for a in alert_queue_for_user(user=manager)] == [alert.pk]
    alert_feedback(alert=alert, user=warden_a, true_alarm=False)
    assert alert_queue_for_user(user=manager) == []
