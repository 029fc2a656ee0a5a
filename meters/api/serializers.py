"""Request and response shapes of the readings batch endpoint (documented in the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from meters.models import Hostel, Meter, Occupancy, Quality, Room, Site, Weather

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
_REQUIRED = frozenset(REQUIRED_FIELDS)


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
        keys = item.keys()
        if _REQUIRED <= keys <= KNOWN_FIELDS:  # set comparisons on the keys' view: the common case, in C
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


# --- The estate: sites, hostels, rooms, meters, weather, occupancy, and time series. ---

# Examples are the demo campus's own rows (`make run`): room 7 is A-107, measured by meter 8, RM-A107.
SITE_EXAMPLE = {
    "id": 1,
    "code": "sim",
    "name": "Simulated Campus (Madrid)",
    "timezone": "Europe/Madrid",
    "latitude": 40.45,
    "longitude": -3.73,
    "currency": "EUR",
    "hostels": 3,
}


@extend_schema_serializer(examples=[OpenApiExample("A campus", value=SITE_EXAMPLE, response_only=True)])
class SiteSerializer(serializers.ModelSerializer):
    hostels = serializers.IntegerField(source="n_hostels", read_only=True, help_text="Hostels you may see.")

    class Meta:
        model = Site
        fields = ["id", "code", "name", "timezone", "latitude", "longitude", "currency", "hostels"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A hostel",
            value={
                "id": 1,
                "code": "A",
                "name": "Hostel A",
                "site": 1,
                "site_name": "Simulated Campus (Madrid)",
                "floors": 4,
                "timezone": "Europe/Madrid",
                "rooms": 40,
                "beds": 126,
            },
            response_only=True,
        )
    ]
)
class HostelSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name", read_only=True)
    timezone = serializers.CharField(source="site.timezone", read_only=True)
    rooms = serializers.IntegerField(source="n_rooms", read_only=True)
    beds = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Hostel
        fields = ["id", "code", "name", "site", "site_name", "floors", "timezone", "rooms", "beds"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A four-bed room",
            value={
                "id": 7,
                "number": "107",
                "hostel": 1,
                "hostel_name": "Hostel A",
                "floor": 0,
                "bed_type": 4,
                "capacity": 4,
                "customer": 8,
            },
            response_only=True,
        )
    ]
)
class RoomSerializer(serializers.ModelSerializer):
    hostel_name = serializers.CharField(source="hostel.name", read_only=True)

    class Meta:
        model = Room
        fields = ["id", "number", "hostel", "hostel_name", "floor", "bed_type", "capacity", "customer"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A room meter",
            value={
                "id": 8,
                "serial": "RM-A107",
                "kind": "room",
                "status": "active",
                "hostel": 1,
                "room": 7,
                "room_number": "107",
                "customer": 8,
                "transformer": 1,
                "interval_minutes": 15,
                "register": "interval",
                "rated_kw": 10.0,
                "nominal_voltage": 230.0,
                "installed_at": "2024-02-01T22:00:00Z",
                "removed_at": None,
                "last_reading_at": "2026-12-06T07:45:00Z",
            },
            response_only=True,
        )
    ]
)
class MeterSerializer(serializers.ModelSerializer):
    room_number = serializers.CharField(source="room.number", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Meter
        fields = [
            "id",
            "serial",
            "kind",
            "status",
            "hostel",
            "room",
            "room_number",
            "customer",
            "transformer",
            "interval_minutes",
            "register",
            "rated_kw",
            "nominal_voltage",
            "installed_at",
            "removed_at",
            "last_reading_at",
        ]
        read_only_fields = fields


class WeatherSerializer(serializers.ModelSerializer):
    class Meta:
        model = Weather
        fields = [
            "id",
            "site",
            "timestamp",
            "temperature_c",
            "humidity_pct",
            "rainfall_mm",
            "wind_kmh",
            "pressure_hpa",
            "source",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Three students from September",
            value={"room": 7, "start": "2026-09-01T00:00:00+02:00", "end": None, "occupants": 3},
            request_only=True,
        ),
        OpenApiExample(
            "A period",
            value={
                "id": 51,
                "room": 7,
                "start": "2026-09-01T00:00:00+02:00",
                "end": None,
                "occupants": 3,
                "source": "manual",
            },
            response_only=True,
        ),
    ]
)
class OccupancySerializer(serializers.ModelSerializer):
    class Meta:
        model = Occupancy
        fields = ["id", "room", "start", "end", "occupants", "source"]
        read_only_fields = ["id", "source"]


class OccupancyInSerializer(serializers.Serializer):
    """A new occupancy period; the room must be one the caller may see."""

    room = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(required=False, allow_null=True, default=None)
    occupants = serializers.IntegerField(min_value=0, max_value=6)


class SeriesQuerySerializer(serializers.Serializer):
    """Query parameters of a readings series."""

    start = serializers.DateTimeField(required=False, help_text="From (inclusive), ISO 8601; default: end - 7 days.")
    end = serializers.DateTimeField(required=False, help_text="To (exclusive), ISO 8601; default: now.")
    resolution = serializers.ChoiceField(
        choices=["raw", "hourly", "daily"], default="raw", help_text="raw readings, or hourly / daily rollups."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end = attrs.get("end") or timezone.now()
        start = attrs.get("start") or end - dt.timedelta(days=7)
        if start >= end:
            raise serializers.ValidationError({"start": ["Must be before end."]})
        # Local-day arithmetic near year 1 or 9999 would overflow; no meter reads that far out.
        if start.year < 1900 or end.year > 2200:
            raise serializers.ValidationError({"start": ["Between the years 1900 and 2200."]})
        if end - start > dt.timedelta(days=3660):
            raise serializers.ValidationError({"start": ["At most ten years at a time."]})
        return {**attrs, "start": start, "end": end}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "An hourly point",
            value={
                "meter": 8,
                "start": "2025-01-14T05:00:00Z",
                "end": "2025-01-14T06:00:00Z",
                "kwh": 0.42,
                "voltage": 229.8,
                "voltage_min": 226.1,
                "voltage_max": 233.0,
                "power_factor": 0.95,
                "current": None,
                "quality": None,
                "readings": 4,
                "estimated": 0,
                "peak_kw": 0.6,
            },
            response_only=True,
        )
    ]
)
class SeriesPointSerializer(serializers.Serializer):
    """One raw reading, or one hourly / daily rollup; fields a resolution lacks are null."""

    meter = serializers.IntegerField(source="meter_id")
    start = serializers.DateTimeField(help_text="Start of the interval (a local day starts at local midnight).")
    end = serializers.DateTimeField(help_text="End of the interval (exclusive).")
    kwh = serializers.FloatField()
    voltage = serializers.FloatField(allow_null=True, default=None, help_text="Raw, or the hour's average.")
    voltage_min = serializers.FloatField(allow_null=True, default=None)
    voltage_max = serializers.FloatField(allow_null=True, default=None)
    power_factor = serializers.FloatField(allow_null=True, default=None, help_text="Raw, or the hour's average.")
    current = serializers.FloatField(allow_null=True, default=None)
    quality = serializers.ChoiceField(
        choices=Quality.choices, allow_null=True, default=None, help_text="Raw only: 0 raw, 1 estimated, 2 corrected."
    )
    readings = serializers.IntegerField(allow_null=True, default=None, help_text="Rollups: readings summed.")
    estimated = serializers.IntegerField(allow_null=True, default=None, help_text="Rollups: of which estimated.")
    peak_kw = serializers.FloatField(allow_null=True, default=None)
