"""Response shapes of the analytics API (overview, grid health, hostel comparison)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

GRID_EXAMPLE = {
    "hour": "2025-01-14T05:00:00Z",
    "kwh_last_hour": 182.4,
    "voltage_avg": 229.6,
    "voltage_min": 221.0,
    "voltage_max": 236.2,
    "power_factor_avg": 0.94,
    "meters_reporting": 412,
}


class PeriodQuerySerializer(serializers.Serializer):
    """Whole local days: `days` ending today, or from `start` to `end` inclusive."""

    days = serializers.IntegerField(min_value=1, max_value=366, required=False, default=7)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end = attrs.get("end") or timezone.localdate()
        start = attrs.get("start") or end - dt.timedelta(days=attrs["days"] - 1)
        if start > end:
            raise serializers.ValidationError({"start": ["Must not be after end."]})
        if (end - start).days > 366:
            raise serializers.ValidationError({"start": ["At most 367 days at a time."]})
        return {"start": start, "end": end}


@extend_schema_serializer(examples=[OpenApiExample("The latest hour", value=GRID_EXAMPLE, response_only=True)])
class GridHealthSerializer(serializers.Serializer):
    hour = serializers.DateTimeField(allow_null=True, help_text="Latest hour with data (within a day).")
    kwh_last_hour = serializers.FloatField(allow_null=True)
    voltage_avg = serializers.FloatField(allow_null=True)
    voltage_min = serializers.FloatField(allow_null=True)
    voltage_max = serializers.FloatField(allow_null=True)
    power_factor_avg = serializers.FloatField(allow_null=True)
    meters_reporting = serializers.IntegerField()


class DailyConsumptionSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="Local day.")
    hostel = serializers.CharField()
    kwh = serializers.FloatField()


COMPARISON_EXAMPLE = {
    "id": 3,
    "name": "Hostel A",
    "kwh": 5120.5,
    "cost": 921.69,
    "currency": "EUR",
    "occupied_beds": 402,
    "beds": 480,
    "kwh_per_occupied_bed_day": 1.82,
    "kwh_weather_normalized": 4870.2,
    "kwh_per_occupied_bed_day_weather": 1.73,
}


@extend_schema_serializer(examples=[OpenApiExample("A hostel", value=COMPARISON_EXAMPLE, response_only=True)])
class HostelComparisonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kwh = serializers.FloatField(help_text="Room meters over the period.")
    cost = serializers.FloatField(help_text="At each room account's tariff.")
    currency = serializers.CharField()
    occupied_beds = serializers.IntegerField()
    beds = serializers.IntegerField()
    kwh_per_occupied_bed_day = serializers.FloatField(allow_null=True)
    kwh_weather_normalized = serializers.FloatField(
        allow_null=True,
        help_text="kWh corrected to the site's average weather of the last year (degree-day fit); "
        "null without 60 days of energy and weather.",
    )
    kwh_per_occupied_bed_day_weather = serializers.FloatField(allow_null=True)
    carbon_kg = serializers.FloatField(
        allow_null=True,
        help_text="kg CO2 of the room consumption at the site's grid intensity (hourly, else its constant); "
        "null when the site has none.",
    )


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A week",
            value={
                "period": {"start": "2025-01-08", "end": "2025-01-14"},
                "kwh": 35120.2,
                "cost": 6321.6,
                "currency": "EUR",
                "grid": GRID_EXAMPLE,
                "daily": [{"day": "2025-01-14", "hostel": "Hostel A", "kwh": 731.5}],
            },
            response_only=True,
        )
    ]
)
class OverviewSerializer(serializers.Serializer):
    period = PeriodSerializer()
    kwh = serializers.FloatField(help_text="Consumption of the hostels you see (main meters, else rooms).")
    cost = serializers.FloatField(help_text="Room consumption at each account's tariff.")
    currency = serializers.CharField(allow_null=True)
    carbon_kg = serializers.FloatField(
        allow_null=True, help_text="kg CO2 of the consumption (kwh) at each site's grid intensity; null when unknown."
    )
    grid = GridHealthSerializer()
    daily = DailyConsumptionSerializer(many=True)
