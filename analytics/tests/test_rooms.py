"""Warden pages: the hostel page, room detail with expected band, scoped exports, query guards."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.services import alert_raise
from analytics.tests.insight_data import HOSTEL_INSIGHTS_QUERIES, ROOM_INSIGHTS_QUERIES
from conftest import client_for
from meters.models import HourlyRollup, Occupancy
from predictions.models import Anomaly


def _hours(meter: Any, *, end: dt.datetime, days: int, kwh: float) -> None:
    HourlyRollup.objects.bulk_create(
        HourlyRollup(meter=meter, hour=end - dt.timedelta(hours=h + 1), kwh=kwh, readings=4) for h in range(days * 24)
    )


@pytest.fixture
def history(campus: Any) -> dt.datetime:
    """Room A: four prior weeks at 0.5 kWh/h, the last day at 1.0 (double); room B: only the last day."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    _hours(campus.meter_a, end=now - dt.timedelta(hours=24), days=28, kwh=0.5)
    _hours(campus.meter_a, end=now, days=1, kwh=1.0)
    _hours(campus.meter_b, end=now, days=1, kwh=0.3)
    Anomaly.objects.create(
        meter=campus.meter_a,
        hostel=campus.hostel_a,
        room=campus.room_a,
        kind="high_consumption",
        start=now - dt.timedelta(hours=5),
        end=now - dt.timedelta(hours=2),
        score=0.9,
        expected_kwh=1.5,
        actual_kwh=3.0,
        explanation="Twice the usual at night",
        dedupe_key="a-1",
    )
    Occupancy.objects.create(room=campus.room_a, start=now - dt.timedelta(days=40), occupants=3)
    alert_raise(kind="anomaly", title="A-101 double", hostel=campus.hostel_a, room=campus.room_a, meter=campus.meter_a)
    alert_raise(kind="anomaly", title="B-101 odd", hostel=campus.hostel_b, room=campus.room_b, meter=campus.meter_b)
    return now


@pytest.mark.django_db
def test_warden_hostel_page_has_heatmap_and_links_rooms(
    history: dt.datetime, campus: Any, warden_a: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(warden_a)
    # + the site's carbon intensity (its last year's hourly mean) for the insights' kg CO2
    with django_assert_max_num_queries(16 + HOSTEL_INSIGHTS_QUERIES + 1):
        response = client.get(reverse("hostel-detail", args=[campus.hostel_a.pk]))
    body = response.content.decode()
    assert 'id="fig-heatmap"' in body
    assert reverse("room-detail", args=[campus.room_a.pk]) in body


@pytest.mark.django_db
def test_warden_room_detail_shows_band_anomaly_occupancy_and_own_alerts(
    history: dt.datetime, campus: Any, warden_a: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(warden_a)
    # + the latest readings table (readings, the room's meters) and the site's carbon intensity, read for
    # the baseload's and the out-of-hours' kg CO2; + the meter's stored health score and whether it has one
    # (none here: it is scored on the spot)
    with django_assert_max_num_queries(16 + 2 + ROOM_INSIGHTS_QUERIES + 2 + 2):
        response = client.get(reverse("room-detail", args=[campus.room_a.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Expected band (prior weeks)" in body
    assert "Twice the usual at night" in body
    assert "3 of " in body
    assert "A-101 double" in body
    assert "B-101 odd" not in body
    export = client.get(reverse("room-hours-csv", args=[campus.room_a.pk])).content.decode().splitlines()
    assert export[0] == "hour,kwh,expected_kwh,expected_low_kwh,expected_high_kwh,outdoor_c"
    last_full = [line for line in export[1:] if re.match(r"^[^,]+,1\.0,0\.5,0\.5,0\.5,", line)]
    assert len(last_full) >= 20


@pytest.mark.django_db
def test_warden_gets_404_for_another_hostels_room_chart_and_export(campus: Any, warden_a: Any) -> None:
    client = client_for(warden_a)
    assert client.get(reverse("room-detail", args=[campus.room_b.pk])).status_code == 404
    assert client.get(reverse("room-hours-csv", args=[campus.room_b.pk])).status_code == 404
    assert client.get(reverse("hostel-detail", args=[campus.hostel_b.pk])).status_code == 404


@pytest.mark.django_db
def test_manager_sees_every_room_and_nobody_is_refused(campus: Any, manager: Any, nobody: Any) -> None:
    assert client_for(manager).get(reverse("room-detail", args=[campus.room_b.pk])).status_code == 200
    assert client_for(nobody).get(reverse("room-detail", args=[campus.room_b.pk])).status_code in (403, 404)


@pytest.mark.django_db
def test_expected_band_survives_a_meter_replacement(campus: Any, manager: Any) -> None:
    from meters.tests.factories import MeterFactory

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    _hours(campus.meter_a, end=now - dt.timedelta(hours=24), days=28, kwh=0.5)
    campus.meter_a.removed_at = now - dt.timedelta(hours=24)
    campus.meter_a.save()
    replacement = MeterFactory.create(serial="RM-A-101-R1", room=campus.room_a)
    _hours(replacement, end=now, days=1, kwh=1.0)
    export = client_for(manager).get(reverse("room-hours-csv", args=[campus.room_a.pk])).content.decode()
    assert sum(1 for line in export.splitlines() if re.match(r"^[^,]+,1\.0,0\.5,0\.5,0\.5,", line)) >= 20
