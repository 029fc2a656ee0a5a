"""The admin is the configuration tool: its forms must refuse impossible values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib import admin as django_admin
from django.db import IntegrityError, transaction
from django.test import RequestFactory

from meters.models import Meter, Occupancy, Room
from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory


def admin_form(model: type, data: dict[str, Any], user: Any, instance: Any = None) -> Any:
    model_admin = django_admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    form_class = model_admin.get_form(request, instance)
    return form_class(data=data, instance=instance)


@pytest.mark.django_db
def test_room_form_rejects_five_beds(admin: Any) -> None:
    hostel = HostelFactory.create()
    form = admin_form(Room, {"hostel": hostel.pk, "number": "9", "floor": 0, "bed_type": 5, "capacity": 5}, admin)
    assert not form.is_valid()
    assert "bed_type" in form.errors


@pytest.mark.django_db
def test_room_form_rejects_negative_capacity_and_a_floor_the_hostel_lacks(admin: Any) -> None:
    hostel = HostelFactory.create(floors=2)
    form = admin_form(Room, {"hostel": hostel.pk, "number": "9", "floor": 7, "bed_type": 2, "capacity": -1}, admin)
    assert not form.is_valid()
    assert "capacity" in form.errors
    assert "floor" in form.errors
    assert "floors 0 to 1" in str(form.errors["floor"])


@pytest.mark.django_db
def test_meter_form_rejects_a_second_active_meter_in_the_same_room(admin: Any) -> None:
    existing = MeterFactory.create(serial="FIRST")
    data = {
        "serial": "SECOND",
        "kind": "room",
        "room": existing.room_id,
        "interval_minutes": 15,
        "register": "interval",
        "rated_kw": 10,
        "nominal_voltage": 230,
        "installed_at_0": "2025-01-01",
        "installed_at_1": "00:00",
        "status": "active",
        "events-TOTAL_FORMS": 0,
        "events-INITIAL_FORMS": 0,
    }
    form = admin_form(Meter, data, admin)
    assert not form.is_valid()
    assert "FIRST is already installed in this room" in str(form.errors["room"])


@pytest.mark.django_db
def test_database_refuses_two_active_meters_in_one_room_even_without_forms() -> None:
    existing = MeterFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Meter.objects.create(serial="DUP", room=existing.room, installed_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))


@pytest.mark.django_db
def test_a_removed_meter_frees_its_room_for_the_replacement() -> None:
    old = MeterFactory.create(serial="OLD")
    old.removed_at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    old.status = Meter.Status.REMOVED
    old.save()
    new = Meter(serial="NEW", room=old.room, installed_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    new.full_clean()
    new.save()
    assert new.hostel_id == old.hostel_id


@pytest.mark.django_db
def test_room_meter_takes_its_hostel_from_the_room() -> None:
    room = RoomFactory.create()
    meter = Meter.objects.create(serial="X1", room=room, installed_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    assert meter.hostel_id == room.hostel_id


@pytest.mark.django_db
def test_occupancy_cannot_exceed_the_room_capacity() -> None:
    room = RoomFactory.create(bed_type=2, capacity=2)
    period = Occupancy(room=room, start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), occupants=3)
    with pytest.raises(Exception, match="sleeps 2"):
        period.full_clean()


@pytest.mark.django_db
def test_site_rejects_an_unknown_time_zone() -> None:
    from meters.models import Site

    site = Site(code="x", name="X", timezone="Europe/Atlantis", latitude=0, longitude=0)
    with pytest.raises(Exception, match="not an IANA time zone"):
        site.full_clean()
