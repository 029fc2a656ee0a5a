"""Health, and the analytics read by dashboards and integrations (all from rollups)."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api import serializers as s
from analytics.selectors import (
    DateRange,
    grid_health_for_user,
    health_summary,
    hostel_comparison_for_user,
    overview_for_user,
)
from core.api.base import READ_ERRORS, errors

_check = inline_serializer(
    "HealthCheck",
    fields={"name": serializers.CharField(), "ok": serializers.BooleanField(), "detail": serializers.CharField()},
)
PERIOD_PARAMETERS = [
    OpenApiParameter("days", int, description="Local days ending today (default 7, at most 366)."),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First local day (instead of days)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last local day, inclusive (default today)."),
]


def _period(request: Request) -> DateRange:
    params = s.PeriodQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return DateRange(start=params.validated_data["start"], end=params.validated_data["end"])


class HealthView(APIView):
    """Database, Redis, worker heartbeat, model artifacts and data freshness; 503 when essentials fail."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes: list[type] = []

    @extend_schema(
        summary="Health of the system (no authentication)",
        responses={
            200: inline_serializer(
                "Health",
                fields={"status": serializers.ChoiceField(["ok", "fail"]), "checks": _check.__class__(many=True)},
            ),
            503: inline_serializer(
                "HealthFailing",
                fields={"status": serializers.ChoiceField(["ok", "fail"]), "checks": _check.__class__(many=True)},
            ),
        },
    )
    def get(self, request: Request) -> Response:
        summary = health_summary()
        return Response(summary, status=200 if summary["status"] == "ok" else 503)


class OverviewView(APIView):
    """Consumption, cost and grid health of the hostels you may see."""

    @extend_schema(
        summary="Overview: consumption, cost and grid health over local days",
        parameters=PERIOD_PARAMETERS,
        responses={200: s.OverviewSerializer, **errors(*READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        overview = overview_for_user(user=request.user, period=_period(request))
        return Response(s.OverviewSerializer(overview).data)


class GridHealthView(APIView):
    """Voltage, power factor and energy in the latest hour with data."""

    @extend_schema(
        summary="Grid health in the latest hour", responses={200: s.GridHealthSerializer, **errors(401, 403, 429)}
    )
    def get(self, request: Request) -> Response:
        return Response(s.GridHealthSerializer(asdict(grid_health_for_user(user=request.user))).data)


class HostelComparisonView(APIView):
    """Each hostel's consumption and cost per occupied bed and day."""

    @extend_schema(
        summary="Hostels compared over local days",
        parameters=PERIOD_PARAMETERS,
        responses={200: s.HostelComparisonSerializer(many=True), **errors(*READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        rows = hostel_comparison_for_user(user=request.user, period=_period(request))
        return Response(s.HostelComparisonSerializer([asdict(row) for row in rows], many=True).data)
