"""The signed-in person's notification settings over the API (the same choices as /alerts/settings/)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.models import AlertKind, Severity
from alerts.services.preferences import (
    notification_choices,
    notification_preference_for,
    notification_preference_update,
)
from core.api.base import errors
from core.api.permissions import HasRole
from meters.models import Hostel, validate_timezone


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "08:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the user's own zone ("08:00"): no offset, so not OpenAPI's `time` format."""


class NotificationSettingsSerializer(serializers.Serializer):
    email = serializers.BooleanField(help_text="Send alerts by email.")
    push = serializers.BooleanField(help_text="Send alerts to the devices where notifications were allowed.")
    hostels = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Hostel.objects.none(), help_text="Hostel ids; empty: every hostel you may see."
    )
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=AlertKind.choices), help_text="Alert kinds; empty: every kind."
    )
    min_severity = serializers.ChoiceField(choices=Severity.choices)
    quiet_start = LocalTimeField(allow_null=True, help_text="Quiet hours begin (local time), or null.")
    quiet_end = LocalTimeField(allow_null=True, help_text="Quiet hours end (local time), or null.")
    critical_breaks_quiet = serializers.BooleanField()
    daily_summary = serializers.BooleanField(help_text="One summary a day instead of a message per alert.")
    summary_at = LocalTimeField(help_text="When the daily summary is sent (local time).")
    time_zone = serializers.CharField(validators=[validate_timezone], help_text="IANA time zone, e.g. Europe/London.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent while the OpenAPI schema is generated
        if request is not None:
            # Only the person's own hostels exist for this field: another's id reads as "does not exist".
            hostels = self.fields["hostels"]
            assert isinstance(hostels, serializers.ManyRelatedField)
            hostels.child_relation.queryset = Hostel.objects.visible_to(request.user)


class NotificationSettingsView(APIView):
    """What reaches you: hostels, kinds, severity, email and push, quiet hours, daily summary."""

    permission_classes = [HasRole]

    @extend_schema(
        summary="Your notification settings",
        responses={200: NotificationSettingsSerializer, **errors(401, 403, 429)},
        tags=["alerts"],
    )
    def get(self, request: Request) -> Response:
        pref = notification_preference_for(user=request.user)
        return Response(NotificationSettingsSerializer(notification_choices(pref), context={"request": request}).data)

    @extend_schema(
        summary="Change your notification settings (only the fields you send)",
        request=NotificationSettingsSerializer,
        responses={200: NotificationSettingsSerializer, **errors(400, 401, 403, 429)},
        tags=["alerts"],
    )
    def patch(self, request: Request) -> Response:
        pref = notification_preference_for(user=request.user)
        serializer = NotificationSettingsSerializer(data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        choices = {**notification_choices(pref), **serializer.validated_data}
        try:
            saved = notification_preference_update(user=request.user, **choices)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages) from None
        return Response(NotificationSettingsSerializer(notification_choices(saved), context={"request": request}).data)
