"""A closure found on a feeder (a meter in no hostel) offers the one-click "add to the site's calendar" too.

The feeder's site is the one detection judged its days by: the site its transformer feeds, or the only site.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from alerts.models import Alert
from alerts.services import alert_raise
from conftest import client_for
from customers.tests.factories import TransformerFactory
from meters.models import AcademicPeriod, Meter
from meters.tests.factories import MeterFactory, SiteFactory
from predictions.detection import anomalies_detect, anomalies_to_alerts
from predictions.models import Anomaly
from predictions.tests.test_day_anomalies import TUESDAY, closed_on, day_kinds, day_span, write_days

pytestmark = pytest.mark.django_db

OFFER = "Add to the calendar as a closed day"


def api_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def closure_alert(meter: Meter) -> Alert:
    """Detection over the closed Tuesday, raised as an alert as the live path does."""
    write_days(meter, profile=closed_on(TUESDAY))
    start, end = day_span(TUESDAY)
    anomalies_detect(meter_ids=[meter.id], start=start, end=end, handoff=False)
    anomalies_to_alerts(anomalies=Anomaly.objects.filter(kind="closure_unexpected"))
    return Alert.objects.get(source_payload__kind="closure_unexpected")


def feeder_on_transformer(campus: Any) -> Meter:
    """A cafeteria's feeder on the transformer of Hostel A's main meter, with a second site in the estate."""
    transformer = TransformerFactory.create()
    MeterFactory.create(
        serial="MAIN-A", kind=Meter.Kind.HOSTEL_MAIN, room=None, hostel=campus.hostel_a, transformer=transformer
    )
    SiteFactory.create(code="other", name="Other campus", timezone="Asia/Tokyo")  # "the only site" cannot apply
    return MeterFactory.create(
        serial="FD-CAF", kind=Meter.Kind.FEEDER, room=None, hostel=None, transformer=transformer, interval_minutes=60
    )


def test_a_feeders_closure_is_added_to_its_transformers_site_calendar_from_the_page(manager: Any, campus: Any) -> None:
    feeder = feeder_on_transformer(campus)
    alert = closure_alert(feeder)
    assert alert.hostel_id is None
    site = campus.hostel_a.site
    client = client_for(manager)
    page = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert OFFER in page
    assert f"Was {site.name} closed on Tuesday 29 Oct 2024?" in page

    response = client.post(reverse("alert-closure-add", args=[alert.pk]))

    assert response.status_code == 302
    period = AcademicPeriod.objects.get()
    assert (period.site_id, period.kind, period.start, period.end) == (site.pk, "holiday", TUESDAY, TUESDAY)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
    assert day_kinds(feeder, TUESDAY) == []  # the feeder's day is now expected


def test_a_feeders_closure_through_the_api_on_the_only_site(manager: Any, warden_a: Any, campus: Any) -> None:
    feeder = MeterFactory.create(serial="FD-SHOP", kind=Meter.Kind.FEEDER, room=None, hostel=None, interval_minutes=60)
    alert = closure_alert(feeder)
    url = f"/api/v1/alerts/{alert.pk}/calendar-closure"

    assert api_for(warden_a).post(url).status_code == 404  # a feeder's alert is in no warden's hostels
    answer = api_for(manager).post(url)
    again = api_for(manager).post(url)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    site = campus.hostel_a.site
    assert (body["site"], body["first"], body["last"]) == (site.code, "2024-10-29", "2024-10-29")
    assert body["alert"]["status"] == "resolved"
    assert again.status_code == 200
    assert again.json()["period"] == body["period"]  # idempotent: one holiday
    assert AcademicPeriod.objects.get().site_id == site.pk


def test_a_warden_may_not_add_a_closed_day_through_the_api(warden_a: Any, campus: Any) -> None:
    main = MeterFactory.create(serial="MAIN-A", kind=Meter.Kind.HOSTEL_MAIN, room=None, hostel=campus.hostel_a)
    alert = closure_alert(main)

    assert api_for(warden_a).post(f"/api/v1/alerts/{alert.pk}/calendar-closure").status_code == 403
    assert not AcademicPeriod.objects.exists()


def test_no_offer_where_the_feeders_site_cannot_be_told_nor_on_another_kind(manager: Any, campus: Any) -> None:
    feeder = MeterFactory.create(serial="FD-LAB", kind=Meter.Kind.FEEDER, room=None, hostel=None, interval_minutes=60)
    alert = closure_alert(feeder)  # judged while the campus is the only site
    SiteFactory.create(code="other", name="Other campus", timezone="Asia/Tokyo")  # now two, and no transformer
    other = alert_raise(kind="anomaly", title="A-101 night load", meter=campus.meter_a, score=0.9)

    assert OFFER not in client_for(manager).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert client_for(manager).post(reverse("alert-closure-add", args=[alert.pk])).status_code == 404
    assert api_for(manager).post(f"/api/v1/alerts/{alert.pk}/calendar-closure").status_code == 404
    assert api_for(manager).post(f"/api/v1/alerts/{other.pk}/calendar-closure").status_code == 404
    assert not AcademicPeriod.objects.exists()
