"""Scoped querysets: every page, API view, export and socket asks these what a user may see."""

from __future__ import annotations

from typing import Any

from django.db import models

from customers.roles import scope_for


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> CustomerQuerySet:
        scope = scope_for(user)
        if scope.everything:
            return self
        # A warden sees the accounts of rooms and meters in their hostels.
        ids = scope.hostel_ids
        return self.filter(models.Q(rooms__hostel__in=ids) | models.Q(meters__hostel__in=ids)).distinct()


class TransformerQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> TransformerQuerySet:
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(meters__hostel__in=scope.hostel_ids).distinct()


class TransformerEventQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> TransformerEventQuerySet:
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(transformer__meters__hostel__in=scope.hostel_ids).distinct()


class TransformerConditionQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> TransformerConditionQuerySet:
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(transformer__meters__hostel__in=scope.hostel_ids).distinct()
