"""Querysets of accounts and transformers.

`customers` knows nothing of hostels (they live in `meters`, above it), so what a user may see of
these is decided beside `Hostel` (`meters.scoping`), which hands the rooms, meters or transformers
in scope to the methods here.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class CustomerQuerySet(models.QuerySet):
    def billed_for(self, *, rooms: models.QuerySet[Any], meters: models.QuerySet[Any]) -> CustomerQuerySet:
        """Accounts of these rooms or meters (querysets with a `customer_id`)."""
        return self.filter(models.Q(pk__in=rooms.values("customer_id")) | models.Q(pk__in=meters.values("customer_id")))


class TransformerQuerySet(models.QuerySet):
    def feeding(self, *, meters: models.QuerySet[Any]) -> TransformerQuerySet:
        """Transformers feeding any of these meters (a queryset with a `transformer_id`)."""
        return self.filter(pk__in=meters.values("transformer_id"))


class TransformerEventQuerySet(models.QuerySet):
    def of_transformers(self, transformers: models.QuerySet[Any]) -> TransformerEventQuerySet:
        return self.filter(transformer__in=transformers)


class TransformerConditionQuerySet(models.QuerySet):
    def of_transformers(self, transformers: models.QuerySet[Any]) -> TransformerConditionQuerySet:
        return self.filter(transformer__in=transformers)
