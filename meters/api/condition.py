"""POST /api/v1/transformer-condition/batch: monitors and staff send top-oil and dissolved-gas readings."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.base import body_size_check, errors
from core.api.jwt import CachedUserJWTAuthentication
from core.roles import Role, role_of
from customers.models import AuditEntry
from customers.services import audit_record
from meters.api.serializers import MAX_BATCH
from meters.authentication import GatewayTokenAuthentication
from meters.ingest.senders import Sender
from meters.models import GatewayToken
from meters.services import conditions_ingest


class CanPostCondition(permissions.BasePermission):
    """A gateway token, a facility manager or an administrator: transformers are the estate's, not a hostel's."""

    message = "Only gateways, facility managers and administrators may post transformer condition readings."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, GatewayToken):
            return True
        return role_of(request.user) in (Role.ADMIN, Role.MANAGER)


class ConditionInSerializer(serializers.Serializer):
    transformer = serializers.CharField(max_length=40, help_text="Transformer code.")
    measured_at = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset.")
    top_oil_c = serializers.FloatField(required=False, allow_null=True, help_text="Top-oil temperature, °C.")
    dissolved_gas_ppm = serializers.FloatField(
        required=False, allow_null=True, help_text="Total dissolved combustible gas (TDCG), ppm."
    )


class ConditionRejectedSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    transformer = serializers.CharField()
    reason = serializers.CharField()


class ConditionResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField(help_text="Items refused and kept in the quarantine.")
    duplicates = serializers.IntegerField(help_text="Items repeated in this request; the last one wins.")
    rejections = ConditionRejectedSerializer(many=True)


class ConditionBatchView(APIView):
    """Store condition readings; each bad item is quarantined with its reason, the rest are kept."""

    authentication_classes = [GatewayTokenAuthentication, SessionAuthentication, CachedUserJWTAuthentication]
    permission_classes = [CanPostCondition]

    @extend_schema(
        operation_id="transformer_condition_batch",
        summary="Post up to 10,000 transformer condition readings",
        description=(
            "Top-oil temperature and dissolved combustible gas (TDCG) from a transformer's monitor or an oil "
            "sample; the failure-risk model reads both. Idempotent on (transformer, measured_at)."
        ),
        request=ConditionInSerializer(many=True),
        responses={200: ConditionResultSerializer, **errors(400, 401, 403, 413, 429)},
        examples=[
            OpenApiExample(
                "One reading",
                value=[{"transformer": "TX-1", "measured_at": "2025-07-01T15:00:00Z", "top_oil_c": 71.5}],
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        body_size_check(request)
        items = request.data
        if not isinstance(items, list) or not items:
            raise ValidationError({"non_field_errors": ["Expected a non-empty JSON list of condition readings."]})
        if len(items) > MAX_BATCH:
            raise ValidationError(
                {"non_field_errors": [f"At most {MAX_BATCH} readings per request; got {len(items)}."]}
            )
        gateway = request.auth if isinstance(request.auth, GatewayToken) else None
        source = f"gateway {gateway.name}" if gateway else f"api {request.user.get_username()}"
        sender = Sender.of(user=None if gateway else request.user, gateway=gateway)
        result = conditions_ingest(items=items, source=source, sender=sender)
        audit_record(
            actor=source if gateway else request.user,
            action=AuditEntry.Action.IMPORT,
            target=f"transformer condition batch of {len(items)}",
            detail=result.summary(),
        )
        return Response(
            result.summary()
            | {
                "rejections": [
                    {"index": index, "transformer": code, "reason": reason} for index, code, reason in result.rejections
                ]
            }
        )
