"""POST /api/v1/readings/batch: gateways and staff send up to 10,000 readings at once."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import permissions
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
from meters.api.serializers import MAX_BATCH, BatchResultSerializer, ReadingInSerializer, batch_structure_errors
from meters.authentication import GatewayTokenAuthentication
from meters.models import GatewayToken
from meters.services import readings_ingest


class CanPostReadings(permissions.BasePermission):
    """A gateway token, or a user with a role (wardens only reach their own hostels' meters)."""

    message = "Only meter gateways, facility managers, administrators and wardens may post readings."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, GatewayToken):
            return True
        return role_of(request.user) is not Role.NONE


_EXAMPLE_IN = [
    {"meter": "RM-A107", "timestamp": "2025-01-01T00:00:00Z", "kwh": 0.31, "voltage": 231.2, "power_factor": 0.96},
    {"meter": "RM-A107", "timestamp": "2025-01-01T00:15:00+00:00", "kwh": 0.28},
]
_EXAMPLE_OUT = {
    "accepted": 1,
    "updated": 0,
    "unchanged": 0,
    "rejected": 1,
    "duplicates": 0,
    "rejections": [{"index": 1, "meter": "RM-A107", "reason": "negative energy"}],
}


class ReadingsBatchView(APIView):
    """Store a batch of readings; each bad item is refused with its reason, the rest are kept."""

    authentication_classes = [GatewayTokenAuthentication, SessionAuthentication, CachedUserJWTAuthentication]
    permission_classes = [CanPostReadings]

    @extend_schema(
        operation_id="readings_batch",
        summary="Post up to 10,000 readings",
        description=(
            "Meters are named by serial. Idempotent: posting the same readings again changes nothing; a "
            "changed value updates the stored reading and marks it corrected. Items that fail validation "
            "are quarantined and listed in `errors` with their index; they never block the others. "
            "Authenticate gateways with `Authorization: Gateway <key>`."
        ),
        request=ReadingInSerializer(many=True),
        responses={
            200: BatchResultSerializer,
            **errors(400, 401, 403, 413, 429),
        },
        examples=[
            OpenApiExample("Two readings", value=_EXAMPLE_IN, request_only=True),
            OpenApiExample("One accepted, one rejected", value=_EXAMPLE_OUT, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        body_size_check(request)
        errors = batch_structure_errors(request.data)
        if errors is not None:
            raise ValidationError(cast(Any, errors))
        gateway = request.auth if isinstance(request.auth, GatewayToken) else None
        source = f"gateway {gateway.name}" if gateway else f"api {request.user.get_username()}"
        items = cast(list[dict[str, Any]], request.data)  # checked to be a list of objects above
        result = readings_ingest(
            rows=items,
            source=source,
            user=None if gateway else request.user,
            gateway=gateway,
            max_reasons=MAX_BATCH,
        )
        audit_record(
            actor=source if gateway else request.user,
            action=AuditEntry.Action.IMPORT,
            target=f"readings batch of {len(items)}",
            detail={key: value for key, value in result.summary().items() if not key.startswith("seconds")},
        )
        body = {
            "accepted": result.accepted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "duplicates": result.duplicates,
            "rejections": [
                {"index": rejection.row, "meter": rejection.meter_serial, "reason": rejection.reason}
                for rejection in result.rejections
            ],
        }
        return Response(body)
