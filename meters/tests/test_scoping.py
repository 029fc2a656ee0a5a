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


@pytest.mark.django_db
def test_warden_counts_only_their_own_meters_on_a_transformer_shared_with_another_hostel(
    campus: Any, warden_b: Any, manager: Any
) -> None:
    from customers.tests.factories import TransformerFactory
    from meters.selectors.accounts import transformers_queryset_for_user

    shared = TransformerFactory.create()
    Meter.objects.filter(pk__in=[campus.meter_a.pk, campus.meter_b.pk]).update(transformer=shared)
    listed: dict[Any, Any] = {user: transformers_queryset_for_user(user=user) for user in (warden_b, manager)}
    counted = {user: [(tx.pk, tx.n_meters) for tx in rows] for user, rows in listed.items()}
    assert counted[warden_b] == [(shared.pk, 1)]
    assert counted[manager] == [(shared.pk, 2)]


@pytest.mark.django_db
def test_warden_sees_condition_readings_events_and_tariffs_of_their_hostel_only(
    campus: Any, warden_b: Any, manager: Any
) -> None:
    import datetime as dt

    from customers.models import TransformerCondition, TransformerEvent
    from customers.tests.factories import CustomerFactory, TariffFactory, TransformerFactory
    from meters.selectors.accounts import (
        tariffs_queryset_for_user,
        transformer_conditions_visible_to,
        transformer_events_visible_to,
    )

    at = dt.datetime(2025, 7, 1, 12, tzinfo=dt.UTC)
    tx_a, tx_b = TransformerFactory.create(), TransformerFactory.create()
    Meter.objects.filter(pk=campus.meter_a.pk).update(transformer=tx_a)
    Meter.objects.filter(pk=campus.meter_b.pk).update(transformer=tx_b)
    conditions = {
        tx: TransformerCondition.objects.create(transformer=tx, measured_at=at, top_oil_c=60) for tx in (tx_a, tx_b)
    }
    events = {
        tx: TransformerEvent.objects.create(transformer=tx, kind="failure", occurred_at=at) for tx in (tx_a, tx_b)
    }
    tariff_a, tariff_b = TariffFactory.create(name="A"), TariffFactory.create(name="B")
    campus.room_a.customer = CustomerFactory.create(tariff=tariff_a)
    campus.room_a.save()
    campus.room_b.customer = CustomerFactory.create(tariff=tariff_b)
    campus.room_b.save()

    assert list(transformer_conditions_visible_to(warden_b)) == [conditions[tx_b]]
    assert list(transformer_events_visible_to(warden_b)) == [events[tx_b]]
    assert list(tariffs_queryset_for_user(user=warden_b)) == [tariff_b]
    assert set(transformer_conditions_visible_to(manager)) == set(conditions.values())
    assert set(tariffs_queryset_for_user(user=manager)) >= {tariff_a, tariff_b}
