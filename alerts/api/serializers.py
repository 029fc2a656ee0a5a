"""Request and response shapes of the alerts API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from alerts.models import Alert, AlertComment, AlertEvent, AlertKind
from meters.models import Hostel, Meter, Room

ALERT_EXAMPLE = {
    "id": 42,
    "kind": "anomaly",
    "title": "Room A-107 used 3.2 times its usual night energy",
    "explanation": "4.1 kWh between 00:00 and 06:00; expected 1.3 kWh for 4 occupants at 6 °C.",
    "severity": "high",
    "status": "open",
    "hostel": 1,
    "hostel_name": "Hostel A",
    "room": 7,
    "room_number": "107",
    "meter": 8,
    "score": 0.87,
    "excess_cost": "2.40",
    "occurrences": 3,
    "first_seen_at": "2025-01-14T00:15:00Z",
    "last_seen_at": "2025-01-14T05:45:00Z",
    "opened_at": "2025-01-14T00:15:00Z",
    "acknowledged_at": None,
    "resolved_at": None,
    "snoozed_until": None,
    "assigned_to": None,
    "escalation_level": 0,
    "escalated_at": None,
    "is_true_alarm": None,
    "source_payload": {"anomaly_id": 311, "expected_kwh": 1.3, "actual_kwh": 4.1},
}


class UserRefField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="username", read_only=True, **kwargs)


@extend_schema_serializer(examples=[OpenApiExample("An anomaly in a room", value=ALERT_EXAMPLE, response_only=True)])
class AlertSerializer(serializers.ModelSerializer):
    hostel_name = serializers.CharField(source="hostel.name", read_only=True, allow_null=True, default=None)
    room_number = serializers.CharField(source="room.number", read_only=True, allow_null=True, default=None)
    assigned_to = UserRefField(allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "title",
            "explanation",
            "severity",
            "status",
            "hostel",
            "hostel_name",
            "room",
            "room_number",
            "meter",
            "score",
            "excess_cost",
            "occurrences",
            "first_seen_at",
            "last_seen_at",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
            "snoozed_until",
            "assigned_to",
            "escalation_level",
            "escalated_at",
            "is_true_alarm",
            "source_payload",
        ]
        read_only_fields = fields


class AlertEventSerializer(serializers.ModelSerializer):
    actor = UserRefField(allow_null=True)

    class Meta:
        model = AlertEvent
        fields = ["id", "at", "actor", "action", "from_status", "to_status", "detail"]
        read_only_fields = fields


class AlertCommentSerializer(serializers.ModelSerializer):
    author = UserRefField(allow_null=True)

    class Meta:
        model = AlertComment
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = fields


class AlertDetailSerializer(AlertSerializer):
    events = AlertEventSerializer(many=True, read_only=True)
    comments = AlertCommentSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "events", "comments"]
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("Resolve with a note", value={"note": "Heater unplugged."})])
class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


@extend_schema_serializer(examples=[OpenApiExample("Snooze for two hours", value={"minutes": 120})])
class SnoozeSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=1, max_value=7 * 24 * 60, required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("minutes" in attrs) == ("until" in attrs):
            raise serializers.ValidationError("Give either minutes or until.")
        until = attrs.get("until")
        if until is not None and until > timezone.now() + dt.timedelta(minutes=7 * 24 * 60):
            raise serializers.ValidationError({"until": ["At most 7 days ahead, as minutes."]})
        return attrs


@extend_schema_serializer(examples=[OpenApiExample("A comment", value={"body": "Called the student, on my way."})])
class CommentSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


@extend_schema_serializer(examples=[OpenApiExample("False alarm", value={"true_alarm": False})])
class FeedbackSerializer(serializers.Serializer):
    true_alarm = serializers.BooleanField()


@extend_schema_serializer(examples=[OpenApiExample("Assign to a warden", value={"assignee": "warden_a"})])
class AssignSerializer(serializers.Serializer):
    # A name, looked up by the view among the people who can see the alert: "no such person" and
    # "cannot see it" must get the same answer, so that usernames cannot be listed.
    assignee = serializers.CharField(max_length=150, allow_null=True, help_text="Username, or null for nobody.")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Manual alert for a room",
            value={"kind": "manual", "title": "Smell of burning in A-107", "room": 7, "dedupe_key": "manual:a107"},
            request_only=True,
        )
    ]
)
class AlertCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AlertKind.choices, default=AlertKind.MANUAL)
    title = serializers.CharField(max_length=200)
    explanation = serializers.CharField(required=False, allow_blank=True, default="")
    hostel = serializers.PrimaryKeyRelatedField(queryset=Hostel.objects.all(), required=False, allow_null=True)
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all(), required=False, allow_null=True)
    meter = serializers.PrimaryKeyRelatedField(queryset=Meter.objects.all(), required=False, allow_null=True)
    score = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    excess_cost = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True)
    dedupe_key = serializers.CharField(required=False, max_length=200)
    source_payload = serializers.JSONField(required=False, default=dict)


class AlertQueuedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["queued"])
    dedupe_key = serializers.CharField(allow_null=True)
    accepted_at = serializers.DateTimeField()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A feeder's closed Tuesday added",
            value={
                "alert": {**ALERT_EXAMPLE, "kind": "anomaly", "status": "resolved", "hostel": None},
                "site": "north",
                "site_name": "North campus",
                "first": "2024-10-29",
                "last": "2024-10-29",
                "period": 12,
                "period_name": "Closure (alert #42)",
            },
            response_only=True,
        )
    ]
)
class ClosureAddedSerializer(serializers.Serializer):
    """What one click on a closure alert did: the site's calendar holds the days, and the alert is resolved."""

    alert = AlertSerializer(read_only=True)
    site = serializers.CharField(read_only=True, help_text="The code of the site whose calendar took the days.")
    site_name = serializers.CharField(read_only=True)
    first = serializers.DateField(read_only=True, help_text="The first closed day, local to the site.")
    last = serializers.DateField(read_only=True)
    period = serializers.IntegerField(read_only=True, help_text="The holiday in the site's calendar that covers them.")
    period_name = serializers.CharField(read_only=True)
