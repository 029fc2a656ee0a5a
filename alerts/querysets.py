"""Scoped querysets for alerts: the same hostel scope as the estate in `meters`."""

from __future__ import annotations

from typing import Any

from django.db import models

from meters.scoping import scope_for


class AlertQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> Any:
        """Alerts of the hostels in the user's scope; alerts with no hostel only for managers and admins."""
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(hostel_id__in=scope.hostel_ids)

    def active(self) -> Any:
        return self.filter(status__in=("open", "acknowledged", "snoozed"))


class AlertChildQuerySet(models.QuerySet):
    """Rows that belong to an alert (comments, audit): visible where the alert is."""

    def visible_to(self, user: Any) -> Any:
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(alert__hostel_id__in=scope.hostel_ids)
