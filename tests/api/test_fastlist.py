"""Lists rendered from values() rows say exactly what their serializer would."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework import serializers

from conftest import assert_fast_list_is_the_serializers, client_for
from core.api.fastlist import list_plan
from customers.tests.factories import TransformerFactory
from meters.api.serializers import MeterSerializer
from meters.models import Meter
from meters.tests.factories import MeterFactory


def _meters(campus: Any) -> None:
    transformer = TransformerFactory.create(code="TX-1")
    MeterFactory.create(
        serial="FEED-1",
        kind=Meter.Kind.FEEDER,
        room=None,
        hostel=campus.hostel_a,
        transformer=transformer,
        installed_at=dt.datetime(2024, 3, 31, 1, 30, 15, 123456, tzinfo=dt.UTC),
        removed_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        rated_kw=12.5,
    )
    Meter.objects.filter(serial="RM-A-101").update(last_reading_at=dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC))


def _serialized(queryset: Any) -> list[dict[str, Any]]:
    return json.loads(json.dumps(MeterSerializer(queryset, many=True).data))


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["UTC", "Europe/Madrid"])
def test_the_meters_list_is_what_the_serializer_says(campus: Any, manager: Any, zone: str) -> None:
    _meters(campus)
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        body = client_for(manager).get("/api/v1/meters?ordering=serial").json()
        expected = _serialized(Meter.objects.select_related("room").order_by("serial", "id"))
    assert body["results"] == expected
    assert len(expected) == 3
    feeder = next(row for row in body["results"] if row["serial"] == "FEED-1")
    assert feeder["room_number"] is None
    assert feeder["installed_at"] == (
        "2024-03-31T01:30:15.123456Z" if zone == "UTC" else "2024-03-31T03:30:15.123456+02:00"
    )


@pytest.mark.django_db
def test_a_warden_s_list_is_still_scoped_and_filtered(campus: Any, warden_a: Any) -> None:
    _meters(campus)
    body = client_for(warden_a).get("/api/v1/meters?kind=feeder").json()
    assert [row["serial"] for row in body["results"]] == ["FEED-1"]
    body = client_for(warden_a).get("/api/v1/meters").json()
    assert {row["serial"] for row in body["results"]} == {"FEED-1", "RM-A-101"}


def test_a_serializer_with_a_field_the_plan_does_not_know_is_left_to_itself() -> None:
    class WithMethod(MeterSerializer):
        label = serializers.SerializerMethodField()  # type: ignore[assignment]

        class Meta(MeterSerializer.Meta):
            fields = [*MeterSerializer.Meta.fields, "label"]

        def get_label(self, meter: Meter) -> str:
            return meter.serial.lower()

    assert list_plan(WithMethod) is None

    class Custom(MeterSerializer):
        def to_representation(self, instance: Any) -> Any:
            return {"serial": instance.serial}

    assert list_plan(Custom) is None
    assert list_plan(MeterSerializer) is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sites",
        "/api/v1/hostels",
        "/api/v1/rooms",
        "/api/v1/meters",
        "/api/v1/weather",
        "/api/v1/occupancy",
        "/api/v1/transformers",
        "/api/v1/hostels?ordering=-name",
        "/api/v1/weather?ordering=timestamp&page_size=2",
    ],
)
def test_every_fast_list_says_what_its_serializer_says(
    campus: Any, manager: Any, warden_a: Any, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meters.models import Occupancy, Weather

    _meters(campus)
    site = campus.hostel_a.site
    for hour in range(3):
        Weather.objects.create(
            site=site,
            timestamp=dt.datetime(2025, 6, 1, hour, tzinfo=dt.UTC),
            temperature_c=20.5 + hour,
            humidity_pct=None,
        )
    Occupancy.objects.create(room=campus.room_a, start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), end=None, occupants=3)
    for user in (manager, warden_a):
        assert_fast_list_is_the_serializers(client_for(user), path, monkeypatch)
