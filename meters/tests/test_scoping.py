"""visible_to(user): wardens see only their hostels, managers and admins see everything."""

from __future__ import annotations

from typing import Any

import pytest

from meters.models import Hostel, Meter, Reading, Room
from meters.selectors.accounts import customers_visible_to, transformers_visible_to


@pytest.mark.django_db
def test_warden_sees_only_assigned_hostels_rooms_meters_and_readings(campus: Any, warden_a: Any) -> None:
    assert list(Hostel.objects.visible_to(warden_a)) == [campus.hostel_a]
    assert list(Room.objects.visible_to(warden_a)) == [campus.room_a]
    assert list(Meter.objects.visible_to(warden_a)) == [campus.meter_a]
    assert {r.meter_id for r in Reading.objects.visible_to(warden_a)} == {campus.meter_a.id}


@pytest.mark.django_db
def test_managers_and_admins_see_every_hostel(campus: Any, manager: Any, admin: Any) -> None:
    for user in (manager, admin):
        assert set(Hostel.objects.visible_to(user)) == {campus.hostel_a, campus.hostel_b}


@pytest.mark.django_db
def test_user_without_a_role_sees_nothing(campus: Any, nobody: Any) -> None:
    assert not Hostel.objects.visible_to(nobody).exists()
    assert not Reading.objects.visible_to(nobody).exists()
    assert not customers_visible_to(nobody).exists()


@pytest.mark.django_db
def test_warden_sees_customers_and_transformers_of_their_hostel_only(campus: Any, warden_b: Any) -> None:
    from customers.tests.factories import CustomerFactory, TransformerFactory

    customer_a, customer_b = CustomerFactory.create(), CustomerFactory.create()
    campus.room_a.customer = customer_a
    campus.room_a.save()
    campus.room_b.customer = customer_b
    campus.room_b.save()
    tx_a, tx_b = TransformerFactory.create(), TransformerFactory.create()
    Meter.objects.filter(pk=campus.meter_a.pk).update(transformer=tx_a)
    Meter.objects.filter(pk=campus.meter_b.pk).update(transformer=tx_b)
    assert list(customers_visible_to(warden_b)) == [customer_b]
    assert list(transformers_visible_to(warden_b)) == [tx_b]
