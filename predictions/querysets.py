"""Scoped querysets of predictions: what each user may see of forecasts and anomalies (`visible_to`)."""

from __future__ import annotations

from typing import Any

from django.db import models

from meters.scoping import scope_for


class ForecastQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ForecastQuerySet:
        scope = scope_for(user)
        if scope.everything:
            return self
        # Site totals include every hostel: only roles that see everything get them.
        return self.filter(
            models.Q(subject_kind="hostel", hostel__in=scope.hostel_ids)
            | models.Q(subject_kind="transformer", transformer__meters__hostel__in=scope.hostel_ids)
        ).distinct()


class AnomalyQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> AnomalyQuerySet:
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(hostel__in=scope.hostel_ids)
