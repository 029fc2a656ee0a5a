"""Request and response shapes of the customers, tariffs and transformers API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from customers.models import Customer, Tariff, TariffBand, Transformer, TransformerCondition


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A room account",
            value={
                "id": 8,
                "account_code": "R-A107",
                "name": "Hostel A room 107",
                "kind": "hostel_room",
                "tariff": 1,
                "tariff_name": "Student flat",
                "segment": "night-owls",
                "has_solar": False,
                "has_ev_charging": False,
                "demand_response_opt_in": True,
            },
            response_only=True,
        )
    ]
)
class CustomerSerializer(serializers.ModelSerializer):
    tariff_name = serializers.CharField(source="tariff.name", read_only=True)
    segment: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "account_code",
            "name",
            "kind",
            "tariff",
            "tariff_name",
            "segment",
            "has_solar",
            "has_ev_charging",
            "demand_response_opt_in",
        ]
        read_only_fields = fields


class TariffBandSerializer(serializers.ModelSerializer):
    class Meta:
        model = TariffBand
        fields = ["name", "days", "start", "end", "price_per_kwh"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Time of use",
            value={
                "id": 2,
                "name": "Student TOU",
                "kind": "tou",
                "currency": "EUR",
                "price_per_kwh": "0.1800",
                "standing_charge_per_day": "0.2500",
                "bands": [
                    {
                        "name": "Peak",
                        "days": "weekdays",
                        "start": "17:00:00",
                        "end": "21:00:00",
                        "price_per_kwh": "0.3100",
                    }
                ],
            },
            response_only=True,
        )
    ]
)
class TariffSerializer(serializers.ModelSerializer):
    bands = TariffBandSerializer(many=True, read_only=True)

    class Meta:
        model = Tariff
        fields = ["id", "name", "kind", "currency", "price_per_kwh", "standing_charge_per_day", "bands"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A distribution transformer",
            value={
                "id": 2,
                "code": "TX-002",
                "name": "North substation 2",
                "capacity_kva": 500,
                "installed_year": 2004,
                "status": "in_service",
                "location": "Behind Hostel A",
                "latitude": -1.28,
                "longitude": 36.82,
                "meters": 121,
            },
            response_only=True,
        )
    ]
)
class TransformerSerializer(serializers.ModelSerializer):
    meters = serializers.IntegerField(source="n_meters", read_only=True, help_text="Meters it feeds (in service).")

    class Meta:
        model = Transformer
        fields = [
            "id",
            "code",
            "name",
            "capacity_kva",
            "installed_year",
            "status",
            "location",
            "latitude",
            "longitude",
            "meters",
        ]
        read_only_fields = fields


class TransformerConditionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TransformerCondition
        fields = ["id", "transformer", "measured_at", "top_oil_c", "dissolved_gas_ppm", "source"]
        read_only_fields = fields
