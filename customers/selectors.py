"""Reads of customers, tariffs and transformers, always through the user's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from customers.models import Customer, Tariff, TariffBand, Transformer, TransformerCondition
from customers.roles import scope_for


def customers_queryset_for_user(*, user: Any) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).select_related("tariff", "segment")


def tariffs_queryset_for_user(*, user: Any) -> QuerySet[Tariff]:
    """Every tariff for managers and admins; a warden sees the tariffs of the accounts they see."""
    tariffs = Tariff.objects.prefetch_related(Prefetch("bands", queryset=TariffBand.objects.order_by("start", "id")))
    scope = scope_for(user)
    if scope.everything:
        return tariffs
    visible = Customer.objects.visible_to(user).values("tariff_id")
    return tariffs.filter(id__in=visible)


def transformer_conditions_queryset_for_user(*, user: Any) -> QuerySet[TransformerCondition]:
    """Condition readings of the transformers feeding the hostels the user sees."""
    return TransformerCondition.objects.visible_to(user)


def transformers_queryset_for_user(*, user: Any) -> QuerySet[Transformer]:
    """Transformers feeding the hostels the user sees, with how many meters they feed."""
    return Transformer.objects.visible_to(user).annotate(
        n_meters=Count("meters", filter=Q(meters__removed_at__isnull=True), distinct=True)
    )
