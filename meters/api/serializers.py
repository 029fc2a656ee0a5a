"""Request and response shapes of the readings batch endpoint (documented in the OpenAPI schema)."""

from __future__ import annotations

from rest_framework import serializers

MAX_BATCH = 10_000


class ReadingInSerializer(serializers.Serializer):
    """One reading as a gateway sends it. Values are checked per item by the ingest service."""

    meter = serializers.CharField(max_length=64, help_text="Meter serial.")
    timestamp = serializers.DateTimeField(help_text="Start of the interval, ISO 8601 with a UTC offset.")
    kwh = serializers.FloatField(help_text="Energy in the interval, or the register index for cumulative meters.")
    voltage = serializers.FloatField(required=False, allow_null=True)
    current = serializers.FloatField(required=False, allow_null=True)
    power_factor = serializers.FloatField(required=False, allow_null=True)


class RejectedItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request list.")
    meter = serializers.CharField()
    reason = serializers.CharField()


class BatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="New readings stored.")
    updated = serializers.IntegerField(help_text="Readings whose values changed (marked corrected).")
    unchanged = serializers.IntegerField(help_text="Readings identical to what was stored.")
    rejected = serializers.IntegerField(help_text="Items refused and kept in the quarantine.")
    duplicates = serializers.IntegerField(help_text="Items repeated in this request; the last one wins.")
    rejections = RejectedItemSerializer(many=True, help_text="One entry per refused item.")


REQUIRED_FIELDS = ("meter", "timestamp", "kwh")
KNOWN_FIELDS = frozenset((*REQUIRED_FIELDS, "voltage", "current", "power_factor"))


def batch_structure_errors(data: object) -> dict[str, object] | None:
    """Field-level errors for a body that is not a list of reading objects; None when well formed.

    Only the shape is checked here, quickly; values are checked per item by the service, so one
    bad value rejects one item, not the batch.
    """
    if not isinstance(data, list):
        return {"non_field_errors": ["Expected a JSON list of readings."]}
    if not data:
        return {"non_field_errors": ["The list is empty."]}
    if len(data) > MAX_BATCH:
        return {"non_field_errors": [f"At most {MAX_BATCH} readings per request; got {len(data)}."]}
    errors: dict[str, object] = {}
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            errors[str(index)] = {"non_field_errors": ["Expected an object."]}
            continue
        missing = [name for name in REQUIRED_FIELDS if name not in item]
        unknown = [name for name in item if name not in KNOWN_FIELDS]
        item_errors: dict[str, list[str]] = {name: ["This field is required."] for name in missing}
        item_errors.update({name: ["Unknown field."] for name in unknown})
        if item_errors:
            errors[str(index)] = item_errors
        if len(errors) >= 50:
            break
    return errors or None
