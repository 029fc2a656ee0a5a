"""Customers, tariffs and transformers, read-only (edited in the admin), in the user's scope.

Served here, beside `Hostel`, because their scope is the rooms and meters of the user's hostels
(`meters.selectors.accounts`); their serializers are `customers.api.serializers`.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from core.api.base import IdFilter, ReadOnlyViewSet, UtcDateTimeFilter, scoped_views
from core.api.fastlist import FastListMixin
from customers.api import serializers as s
from customers.models import Customer, Tariff, Transformer, TransformerCondition
from meters.selectors import accounts as selectors


class CustomerFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Customer.Kind.choices)
    tariff = IdFilter(field_name="tariff_id")
    segment = django_filters.CharFilter(field_name="segment__code")
    account_code = django_filters.CharFilter()

    class Meta:
        model = Customer
        fields = ["kind", "tariff", "segment", "account_code"]


@scoped_views("customer accounts", s.CustomerSerializer)
class CustomerViewSet(ReadOnlyViewSet):
    """Accounts of the rooms and meters you may see."""

    serializer_class = s.CustomerSerializer
    queryset = Customer.objects.none()
    filterset_class = CustomerFilter
    ordering_fields = ["account_code", "name", "id"]
    ordering = ["account_code"]

    def get_queryset(self) -> QuerySet[Customer]:
        return selectors.customers_queryset_for_user(user=self.request.user)


@scoped_views("tariffs", s.TariffSerializer)
class TariffViewSet(ReadOnlyViewSet):
    """Prices per kWh, flat or by time of use."""

    serializer_class = s.TariffSerializer
    queryset = Tariff.objects.none()
    filterset_fields = ["kind", "currency"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Tariff]:
        return selectors.tariffs_queryset_for_user(user=self.request.user)


class TransformerFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Transformer.Status.choices)
    code = django_filters.CharFilter()

    class Meta:
        model = Transformer
        fields = ["status", "code"]


@scoped_views("transformers", s.TransformerSerializer)
class TransformerViewSet(FastListMixin, ReadOnlyViewSet):
    """Transformers feeding the hostels you may see."""

    serializer_class = s.TransformerSerializer
    queryset = Transformer.objects.none()
    filterset_class = TransformerFilter
    ordering_fields = ["code", "capacity_kva", "installed_year", "id"]
    ordering = ["code"]

    def get_queryset(self) -> QuerySet[Transformer]:
        return selectors.transformers_queryset_for_user(user=self.request.user)


class TransformerConditionFilter(django_filters.FilterSet):
    transformer = IdFilter(field_name="transformer_id")
    start = UtcDateTimeFilter(field_name="measured_at", lookup_expr="gte", label="From (inclusive)")
    end = UtcDateTimeFilter(field_name="measured_at", lookup_expr="lt", label="To (exclusive)")

    class Meta:
        model = TransformerCondition
        fields = ["transformer", "start", "end"]


@scoped_views("transformer condition readings", s.TransformerConditionSerializer)
class TransformerConditionViewSet(FastListMixin, ReadOnlyViewSet):
    """Top-oil and dissolved-gas readings of the transformers feeding the hostels you may see."""

    serializer_class = s.TransformerConditionSerializer
    queryset = TransformerCondition.objects.none()
    filterset_class = TransformerConditionFilter
    ordering_fields = ["measured_at", "id"]
    ordering = ["-measured_at"]

    def get_queryset(self) -> QuerySet[TransformerCondition]:
        return selectors.transformer_conditions_queryset_for_user(user=self.request.user)
