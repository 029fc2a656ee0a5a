"""Bounds of the hourly rollups of a set of meters, found by the (meter, hour) index alone.

Hourly rollups have no index on the hour by itself: for hourly meters they are as many rows as the
readings, and that index was a third of the cost of writing them in a bulk import (docs/decisions/0005).
A question such as "the latest hour any of these meters has" is therefore asked per meter, one short
backward probe of the unique (meter, hour) index each, and the answers combined.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Max, Min, OuterRef, QuerySet, Subquery

from meters.models import HourlyRollup, Meter


def _hours(*, start: dt.datetime | None, end: dt.datetime | None) -> QuerySet[HourlyRollup]:
    rollups = HourlyRollup.objects.filter(meter_id=OuterRef("pk"))
    if start is not None:
        rollups = rollups.filter(hour__gte=start)
    if end is not None:
        rollups = rollups.filter(hour__lt=end)
    return rollups


def rollup_hour_latest(
    *, meters: QuerySet[Meter], start: dt.datetime | None = None, end: dt.datetime | None = None
) -> dt.datetime | None:
    """The latest hour in [start, end) with an hourly rollup of any of these meters (None for none)."""
    last = _hours(start=start, end=end).order_by("-hour").values("hour")[:1]
    return meters.order_by().annotate(last_hour=Subquery(last)).aggregate(latest=Max("last_hour"))["latest"]


def rollup_hour_span(*, meters: QuerySet[Meter]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and the last hour with an hourly rollup of any of these meters."""
    hours = _hours(start=None, end=None)
    bounds = (
        meters.order_by()
        .annotate(
            first_hour=Subquery(hours.order_by("hour").values("hour")[:1]),
            last_hour=Subquery(hours.order_by("-hour").values("hour")[:1]),
        )
        .aggregate(first=Min("first_hour"), last=Max("last_hour"))
    )
    return bounds["first"], bounds["last"]
