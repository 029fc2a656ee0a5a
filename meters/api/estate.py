"""The estate over the API: sites, hostels, rooms, meters, weather and occupancy, in the user's scope.

Lists are paged (page numbers, ordered with the id last); a room's or meter's readings are a time
series paged by opaque cursors, so rows arriving while a client pages never shift a page.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from core.api.base import (
    IdFilter,
    IsManager,
    ReadOnlyViewSet,
    SmallIntFilter,
    TimeCursorPagination,
    UtcDateTimeFilter,
    errors,
    scoped_views,
)
from core.api.fastlist import FastListMixin
from meters import selectors
from meters.api import serializers as s
from meters.models import Hostel, Meter, Occupancy, Room, Site, Weather
from meters.selectors import Resolution
from meters.services import occupancy_record


@scoped_views("sites", s.SiteSerializer)
class SiteViewSet(FastListMixin, ReadOnlyViewSet):
    """Campuses with at least one hostel you may see."""

    serializer_class = s.SiteSerializer
    queryset = Site.objects.none()
    ordering_fields = ["code", "name", "id"]
    ordering = ["code"]
    filterset_fields = ["code"]

    def get_queryset(self) -> QuerySet[Site]:
        return selectors.sites_queryset_for_user(user=self.request.user)


class HostelFilter(django_filters.FilterSet):
    site = IdFilter(field_name="site_id")
    code = django_filters.CharFilter()

    class Meta:
        model = Hostel
        fields = ["site", "code"]


@scoped_views("hostels", s.HostelSerializer)
class HostelViewSet(FastListMixin, ReadOnlyViewSet):
    """Hostels: everything for managers and admins, a warden's own for wardens."""

    serializer_class = s.HostelSerializer
    queryset = Hostel.objects.none()
    filterset_class = HostelFilter
    ordering_fields = ["code", "name", "id"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Hostel]:
        return selectors.hostels_queryset_for_user(user=self.request.user)


class RoomFilter(django_filters.FilterSet):
    hostel = IdFilter(field_name="hostel_id")
    floor = SmallIntFilter()
    bed_type = django_filters.ChoiceFilter(choices=Room.BedType.choices)
    number = django_filters.CharFilter()

    class Meta:
        model = Room
        fields = ["hostel", "floor", "bed_type", "number"]


class MeterFilter(django_filters.FilterSet):
    hostel = IdFilter(field_name="hostel_id")
    room = IdFilter(field_name="room_id")
    kind = django_filters.ChoiceFilter(choices=Meter.Kind.choices)
    status = django_filters.ChoiceFilter(choices=Meter.Status.choices)
    serial = django_filters.CharFilter()

    class Meta:
        model = Meter
        fields = ["hostel", "room", "kind", "status", "serial"]


SERIES_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATETIME, description="From (inclusive); default end - 7 days."),
    OpenApiParameter("end", OpenApiTypes.DATETIME, description="To (exclusive); default now."),
    OpenApiParameter("resolution", str, enum=["raw", "hourly", "daily"], description="Default raw."),
]


class _SeriesViewSet(ReadOnlyViewSet):
    """A `readings` action that pages a time series of the object's meters by cursor."""

    cursor_ordering: tuple[str, ...] = ("start", "meter_id")

    def _series(self, *, meter_ids: list[int], tz: str, interval_minutes: int) -> Response:
        params = s.SeriesQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        resolution = Resolution(params.validated_data["resolution"])
        queryset = selectors.readings_series(
            meter_ids=meter_ids,
            resolution=resolution,
            start=params.validated_data["start"],
            end=params.validated_data["end"],
            tz=tz,
        )
        paginator = TimeCursorPagination()
        # Times are unique per meter; the meter id breaks ties between a room's meters.
        self.cursor_ordering = ("day", "meter_id") if resolution is Resolution.DAILY else ("start", "meter_id")
        page = paginator.paginate_queryset(queryset, self.request, view=self) or []
        rows = selectors.series_page_rows(rows=page, resolution=resolution, tz=tz, interval_minutes=interval_minutes)
        return paginator.get_paginated_response(s.SeriesPointSerializer(rows, many=True).data)


SERIES_SCHEMA = extend_schema(
    summary="Readings: raw, or hourly / daily rollups, in a date range (cursor-paged)",
    parameters=SERIES_PARAMETERS,
    responses={200: s.SeriesPointSerializer(many=True), **errors(400, 401, 403, 404, 429)},
)


@scoped_views("rooms", s.RoomSerializer)
class RoomViewSet(FastListMixin, _SeriesViewSet):
    """Rooms of the hostels you may see; another hostel's room is a 404."""

    serializer_class = s.RoomSerializer
    queryset = Room.objects.none()
    filterset_class = RoomFilter
    ordering_fields = ["number", "floor", "bed_type", "id"]
    ordering = ["hostel_id", "number"]

    def get_queryset(self) -> QuerySet[Room]:
        return selectors.rooms_queryset_for_user(user=self.request.user)

    @SERIES_SCHEMA
    @action(detail=True, methods=["get"], pagination_class=TimeCursorPagination, filter_backends=[])
    def readings(self, request: Request, pk: str) -> Response:
        room = selectors.room_for_user(user=request.user, room_id=int(pk))
        if room is None:
            raise Http404
        meters = list(room.meters.values_list("id", "interval_minutes"))
        interval = meters[0][1] if meters else 15
        return self._series(meter_ids=[m[0] for m in meters], tz=room.hostel.site.timezone, interval_minutes=interval)


@scoped_views("meters", s.MeterSerializer)
class MeterViewSet(FastListMixin, _SeriesViewSet):
    """Meters of the hostels you may see; another hostel's meter is a 404."""

    serializer_class = s.MeterSerializer
    queryset = Meter.objects.none()
    filterset_class = MeterFilter
    ordering_fields = ["serial", "kind", "last_reading_at", "installed_at", "id"]
    ordering = ["serial"]

    def get_queryset(self) -> QuerySet[Meter]:
        return selectors.meters_queryset_for_user(user=self.request.user)

    @SERIES_SCHEMA
    @action(detail=True, methods=["get"], pagination_class=TimeCursorPagination, filter_backends=[])
    def readings(self, request: Request, pk: str) -> Response:
        meter = selectors.meter_for_user(user=request.user, meter_id=int(pk))
        if meter is None:
            raise Http404
        hostel = meter.hostel or (meter.room.hostel if meter.room else None)
        tz = hostel.site.timezone if hostel else "UTC"
        return self._series(meter_ids=[meter.id], tz=tz, interval_minutes=meter.interval_minutes)


class WeatherFilter(django_filters.FilterSet):
    site = IdFilter(field_name="site_id")
    source = django_filters.ChoiceFilter(choices=Weather.Source.choices)
    start = UtcDateTimeFilter(field_name="timestamp", lookup_expr="gte", label="From (inclusive)")
    end = UtcDateTimeFilter(field_name="timestamp", lookup_expr="lt", label="To (exclusive)")

    class Meta:
        model = Weather
        fields = ["site", "source", "start", "end"]


@scoped_views("weather observations", s.WeatherSerializer)
class WeatherViewSet(FastListMixin, ReadOnlyViewSet):
    """Hourly weather of the sites you may see (observed, forecast or simulated)."""

    serializer_class = s.WeatherSerializer
    queryset = Weather.objects.none()
    filterset_class = WeatherFilter
    ordering_fields = ["timestamp", "id"]
    ordering = ["-timestamp"]

    def get_queryset(self) -> QuerySet[Weather]:
        return selectors.weather_queryset_for_user(user=self.request.user)


class OccupancyFilter(django_filters.FilterSet):
    room = IdFilter(field_name="room_id")
    hostel = IdFilter(field_name="room__hostel_id")
    at = UtcDateTimeFilter(method="filter_at", label="Periods covering this moment")

    class Meta:
        model = Occupancy
        fields = ["room", "hostel", "at"]

    def filter_at(self, queryset: QuerySet[Occupancy], name: str, value: Any) -> QuerySet[Occupancy]:
        return queryset.filter(start__lte=value).exclude(end__lte=value)


@scoped_views("occupancy periods", s.OccupancySerializer)
class OccupancyViewSet(FastListMixin, mixins.CreateModelMixin, ReadOnlyViewSet):
    """Who lives in each room and since when; managers and admins may record a new period."""

    serializer_class = s.OccupancySerializer
    queryset = Occupancy.objects.none()
    filterset_class = OccupancyFilter
    ordering_fields = ["start", "id"]
    ordering = ["room_id", "start"]

    def get_queryset(self) -> QuerySet[Occupancy]:
        return selectors.occupancy_queryset_for_user(user=self.request.user)

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [IsManager()]
        return list(super().get_permissions())

    def get_serializer_class(self) -> type[BaseSerializer]:
        return s.OccupancyInSerializer if self.action == "create" else s.OccupancySerializer

    @extend_schema(
        summary="Record an occupancy period (managers); closes the room's open period",
        request=s.OccupancyInSerializer,
        responses={201: s.OccupancySerializer, **errors(400, 401, 403, 429)},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = s.OccupancyInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        room = selectors.room_for_user(user=request.user, room_id=data["room"])
        if room is None:
            raise ValidationError({"room": ["No such room."]})
        try:
            period = occupancy_record(room=room, start=data["start"], end=data["end"], occupants=data["occupants"])
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from error
        return Response(s.OccupancySerializer(period).data, status=status.HTTP_201_CREATED)


__all__ = [
    "HostelViewSet",
    "MeterViewSet",
    "OccupancyViewSet",
    "RoomViewSet",
    "SiteViewSet",
    "WeatherViewSet",
]
