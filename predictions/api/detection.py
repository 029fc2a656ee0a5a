"""Anomalies, detection on demand, and the detector's KPIs, in the user's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn, cast

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core.api.base import READ_ERRORS, IdFilter, ReadOnlyViewSet, UtcDateTimeFilter, errors, scoped_views
from core.api.throttling import ScopedThrottle
from predictions import selectors
from predictions.api import serializers as s
from predictions.models import Anomaly
from predictions.services import detection_run_request


class AnomalyFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Anomaly.Kind.choices)
    status = django_filters.MultipleChoiceFilter(choices=Anomaly.Status.choices)
    hostel = IdFilter(field_name="hostel_id")
    room = IdFilter(field_name="room_id")
    meter = IdFilter(field_name="meter_id")
    since = UtcDateTimeFilter(field_name="end", lookup_expr="gt", label="Ending after")
    until = UtcDateTimeFilter(field_name="start", lookup_expr="lt", label="Starting before")

    class Meta:
        model = Anomaly
        fields = ["kind", "status", "hostel", "room", "meter", "since", "until"]


@scoped_views("anomalies (the detector's predictions)", s.AnomalySerializer)
class AnomalyViewSet(ReadOnlyViewSet):
    """Abnormal incidents found on the meters you may see, explained and costed."""

    serializer_class = s.AnomalySerializer
    queryset = Anomaly.objects.none()
    filterset_class = AnomalyFilter
    ordering_fields = ["start", "score", "detected_at", "id"]
    ordering = ["-start"]

    def get_queryset(self) -> QuerySet[Anomaly]:
        return selectors.anomalies_queryset_for_user(user=self.request.user)


class RunsQueuedLimit(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_runs_queued"


class DetectionRunView(APIView):
    """Run detection now over some meters and a window (queued for the worker).

    Bounded per user: a rate (the `detection` throttle) and a cap on runs queued and not yet started."""

    throttle_classes = [*cast(list[type[BaseThrottle]], api_settings.DEFAULT_THROTTLE_CLASSES), ScopedThrottle]
    throttle_scope = "detection"

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise exceptions.Throttled(wait, detail="Detection runs are limited per user; too many asked for.")

    @extend_schema(
        summary="Run anomaly detection on demand (queued for the worker)",
        request=s.DetectionRunSerializer,
        responses={202: s.DetectionQueuedSerializer, **errors(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        payload = s.DetectionRunSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        wanted = sorted(set(data["meters"]))
        meter_ids = selectors.meter_ids_visible(user=request.user, meter_ids=wanted)
        if len(meter_ids) != len(wanted):
            unknown = sorted(set(wanted) - set(meter_ids))[:20]
            raise ValidationError({"meters": [f"No such meter: {', '.join(map(str, unknown))}."]})
        start, end = data["start"].isoformat(), data["end"].isoformat()
        user_id = cast(int, request.user.pk)  # signed in: HasRole let the request through
        if not detection_run_request(user_id=user_id, meter_ids=meter_ids, start=start, end=end):
            limit = int(settings.DETECTION_RUNS_QUEUED_MAX)
            raise RunsQueuedLimit(
                f"You already have {limit} detection runs waiting to start; "
                "ask again when one has started (or wait for its results)."
            )
        body = {"status": "queued", "meters": len(meter_ids), "start": data["start"], "end": data["end"]}
        return Response(s.DetectionQueuedSerializer(body).data, status=202)


class KpiQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=3660, default=30)


class KpiView(APIView):
    """Precision, recall, F1, false-alert rate and time to detect / alert over the last days."""

    @extend_schema(
        summary="Detection KPIs over the last days",
        parameters=[OpenApiParameter("days", OpenApiTypes.INT, description="Days ending now (default 30).")],
        responses={200: s.KpiSerializer, **errors(*READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        params = KpiQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        end = timezone.now()
        start = end - dt.timedelta(days=params.validated_data["days"])
        kpis: dict[str, Any] = selectors.detection_kpis_for_user(user=request.user, start=start, end=end)
        return Response(s.KpiSerializer(kpis).data)
