"""Health endpoint: used by docker-compose health checks and monitoring."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.selectors import health_summary

_check = inline_serializer(
    "HealthCheck",
    fields={"name": serializers.CharField(), "ok": serializers.BooleanField(), "detail": serializers.CharField()},
)


class HealthView(APIView):
    """Database, Redis, worker heartbeat, model artifacts and data freshness; 503 when essentials fail."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        responses={
            200: inline_serializer(
                "Health",
                fields={"status": serializers.ChoiceField(["ok", "fail"]), "checks": _check.__class__(many=True)},
            ),
            503: inline_serializer(
                "HealthFailing",
                fields={"status": serializers.ChoiceField(["ok", "fail"]), "checks": _check.__class__(many=True)},
            ),
        }
    )
    def get(self, request: Request) -> Response:
        summary = health_summary()
        return Response(summary, status=200 if summary["status"] == "ok" else 503)
