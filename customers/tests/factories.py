from __future__ import annotations

from decimal import Decimal

import factory

from customers.models import Customer, Tariff, Transformer


class TariffFactory(factory.django.DjangoModelFactory[Tariff]):
    class Meta:
        model = Tariff
        django_get_or_create = ("name",)

    name = "Flat test tariff"
    price_per_kwh = Decimal("0.2000")
    currency = "EUR"


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    account_code = factory.Sequence(lambda n: f"ACC-{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    kind = Customer.Kind.HOSTEL_ROOM
    tariff = factory.SubFactory(TariffFactory)


class TransformerFactory(factory.django.DjangoModelFactory[Transformer]):
    class Meta:
        model = Transformer

    code = factory.Sequence(lambda n: f"TX-{n:03d}")
    capacity_kva = 500
    installed_year = 2010
