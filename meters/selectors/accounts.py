"""Accounts, tariffs and transformers a user may see: those of the rooms and meters in their hostels.

`customers` holds these models but knows nothing of hostels, so their scoping lives here, beside
`Hostel`: the rooms and meters in scope are handed to `customers`' querysets.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from customers.models import Customer, Tariff, Transformer, TransformerCondition, TransformerEvent
from customers.selectors import tariffs_with_bands
from meters.models import Meter, Room
from meters.scoping import scope_for


def customers_visible_to(user: Any) -> QuerySet[Customer]:
    """Accounts of the rooms and meters in the user's hostels (every account for managers and admins)."""
    scope = scope_for(user)
    if scope.everything:
        return Customer.objects.all()
    rooms = Room.objects.filter(hostel_id__in=scope.hostel_ids)
    meters = Meter.objects.filter(hostel_id__in=scope.hostel_ids)
    return Customer.objects.billed_for(rooms=rooms, meters=meters)


def transformers_visible_to(user: Any) -> QuerySet[Transformer]:
    """Transformers feeding a meter in the user's hostels (removed meters included: their history stays)."""
    scope = scope_for(user)
    if scope.everything:
        return Transformer.objects.all()
    return Transformer.objects.feeding(meters=Meter.objects.filter(hostel_id__in=scope.hostel_ids))


def transformer_events_visible_to(user: Any) -> QuerySet[TransformerEvent]:
    """Ledger events of the transformers the user sees."""
    if scope_for(user).everything:
        return TransformerEvent.objects.all()
    return TransformerEvent.objects.of_transformers(transformers_visible_to(user))


def transformer_conditions_visible_to(user: Any) -> QuerySet[TransformerCondition]:
    """Condition readings of the transformers the user sees."""
    if scope_for(user).everything:
        return TransformerCondition.objects.all()
    return TransformerCondition.objects.of_transformers(transformers_visible_to(user))


def customers_queryset_for_user(*, user: Any) -> QuerySet[Customer]:
    return customers_visible_to(user).select_related("tariff", "segment")


def tariffs_queryset_for_user(*, user: Any) -> QuerySet[Tariff]:
    """Every tariff for managers and admins; a warden sees the tariffs of the accounts they see."""
    if scope_for(user).everything:
        return tariffs_with_bands()
    return tariffs_with_bands().filter(id__in=customers_visible_to(user).values("tariff_id"))


def transformer_conditions_queryset_for_user(*, user: Any) -> QuerySet[TransformerCondition]:
    """Condition readings of the transformers feeding the hostels the user sees."""
    return transformer_conditions_visible_to(user)


def transformers_queryset_for_user(*, user: Any) -> QuerySet[Transformer]:
    """Transformers feeding the hostels the user sees, with how many of the meters the user sees they feed."""
    counted = Q(meters__removed_at__isnull=True)
    scope = scope_for(user)
    if not scope.everything:
        counted &= Q(meters__hostel_id__in=scope.hostel_ids)
    return transformers_visible_to(user).annotate(n_meters=Count("meters", filter=counted, distinct=True))
