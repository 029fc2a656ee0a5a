"""Scoped querysets for the estate: `visible_to(user)` is the only way pages and APIs read it."""

from __future__ import annotations

from typing import Any

from django.db import models

from meters.scoping import scope_for


class _HostelScoped(models.QuerySet):
    """A queryset whose rows belong to a hostel reached through `hostel_path`."""

    hostel_path = "hostel"

    def visible_to(self, user: Any) -> Any:
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(**{f"{self.hostel_path}__in": scope.hostel_ids})


class SiteQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> SiteQuerySet:
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(hostels__in=scope.hostel_ids).distinct()


class HostelQuerySet(_HostelScoped):
    def visible_to(self, user: Any) -> HostelQuerySet:
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(id__in=scope.hostel_ids)


class RoomQuerySet(_HostelScoped):
    hostel_path = "hostel"


class MeterQuerySet(_HostelScoped):
    hostel_path = "hostel"

    def active(self) -> MeterQuerySet:
        return self.filter(removed_at__isnull=True)


class ReadingQuerySet(_HostelScoped):
    hostel_path = "meter__hostel"


class RollupQuerySet(_HostelScoped):
    hostel_path = "hostel"


class MeterEventQuerySet(_HostelScoped):
    hostel_path = "meter__hostel"


class OccupancyQuerySet(_HostelScoped):
    hostel_path = "room__hostel"


class SiteScopedQuerySet(models.QuerySet):
    """Rows that belong to a site (weather, calendar): visible where a user sees a hostel of it."""

    def visible_to(self, user: Any) -> Any:
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(site__hostels__in=scope.hostel_ids).distinct()
