"""Response shapes of the predictions API: forecasts, segments, transformer risk, model versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from customers.models import Segment
from predictions.models import Anomaly, Forecast, ModelVersion, TransformerRisk


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "An hour of Hostel A",
            value={
                "id": 1,
                "subject_kind": "hostel",
                "subject_id": 3,
                "horizon": "hourly",
                "target": "2025-01-15T18:00:00Z",
                "day": None,
                "issued_at": "2025-01-14T23:00:00Z",
                "yhat": 41.2,
                "lower": 35.0,
                "upper": 48.9,
                "yhat_day_ahead": 40.7,
                "actual": None,
                "model_version": 12,
            },
            response_only=True,
        )
    ]
)
class ForecastSerializer(serializers.ModelSerializer):
    class Meta:
        model = Forecast
        fields = [
            "id",
            "subject_kind",
            "subject_id",
            "horizon",
            "target",
            "day",
            "issued_at",
            "yhat",
            "lower",
            "upper",
            "yhat_day_ahead",
            "actual",
            "model_version",
        ]
        read_only_fields = fields


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "code", "name", "description", "recommendation", "expected_saving_pct", "updated_at"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A risky transformer",
            value={
                "transformer": 2,
                "transformer_code": "TX-002",
                "capacity_kva": 500,
                "probability": 0.31,
                "factors": [
                    {
                        "feature": "hours_above_rating_30d",
                        "value": 41,
                        "label": "41 h above its rating in 30 days",
                        "contribution": 0.12,
                    }
                ],
                "computed_at": "2025-01-14T03:00:00Z",
                "model_version": 7,
            },
            response_only=True,
        )
    ]
)
class TransformerRiskSerializer(serializers.ModelSerializer):
    transformer_code = serializers.CharField(source="transformer.code", read_only=True)
    capacity_kva = serializers.IntegerField(source="transformer.capacity_kva", read_only=True)
    factors: serializers.JSONField = serializers.JSONField(
        help_text="Top contributions: {feature, value, label (the factor in words), contribution (log-odds)}."
    )

    class Meta:
        model = TransformerRisk
        fields = [
            "id",
            "transformer",
            "transformer_code",
            "capacity_kva",
            "probability",
            "factors",
            "computed_at",
            "model_version",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A current forecaster",
            value={
                "id": 12,
                "family": "forecast",
                "subject": "A",
                "status": "current",
                "format_version": 1,
                "fit": True,
                "metrics": {"cv_rmse": 0.18, "nmbe": 0.01},
                "parameters": {},
                "train_start": "2024-09-01T00:00:00Z",
                "train_end": "2025-01-01T00:00:00Z",
                "trained_at": "2025-01-02T03:00:00Z",
                "training_seconds": 41.5,
                "note": "",
            },
            response_only=True,
        )
    ]
)
class ModelVersionSerializer(serializers.ModelSerializer):
    metrics: serializers.JSONField = serializers.JSONField()
    parameters: serializers.JSONField = serializers.JSONField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "family",
            "subject",
            "status",
            "format_version",
            "fit",
            "metrics",
            "parameters",
            "train_start",
            "train_end",
            "trained_at",
            "training_seconds",
            "note",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Night usage in a room",
            value={
                "id": 311,
                "meter": 8,
                "meter_serial": "RM-A107",
                "hostel": 1,
                "room": 7,
                "kind": "night_usage",
                "start": "2025-01-14T00:15:00Z",
                "end": "2025-01-14T05:45:00Z",
                "score": 0.87,
                "expected_kwh": 1.3,
                "actual_kwh": 4.1,
                "excess_kwh": 2.8,
                "excess_cost": "0.56",
                "currency": "EUR",
                "detectors": ["residual", "night"],
                "status": "open",
                "explanation": "4.1 kWh between 00:15 and 05:45; expected 1.3 kWh for 4 occupants at 6 °C.",
                "detected_at": "2025-01-14T06:00:03Z",
                "model_version": 5,
            },
            response_only=True,
        )
    ]
)
class AnomalySerializer(serializers.ModelSerializer):
    meter_serial = serializers.CharField(source="meter.serial", read_only=True)
    detectors: serializers.JSONField = serializers.JSONField(help_text="Which detectors fired.")

    class Meta:
        model = Anomaly
        fields = [
            "id",
            "meter",
            "meter_serial",
            "hostel",
            "room",
            "kind",
            "start",
            "end",
            "score",
            "expected_kwh",
            "actual_kwh",
            "excess_kwh",
            "excess_cost",
            "currency",
            "detectors",
            "status",
            "explanation",
            "detected_at",
            "model_version",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "The last day of two meters",
            value={"meters": [9, 10], "start": "2025-01-14T00:00:00Z", "end": "2025-01-15T00:00:00Z"},
            request_only=True,
        )
    ]
)
class DetectionRunSerializer(serializers.Serializer):
    meters = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=1000
    )
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end = attrs["end"] or timezone.now()
        if attrs["start"] >= end:
            raise serializers.ValidationError({"start": ["Must be before end."]})
        if end - attrs["start"] > dt.timedelta(days=31):
            raise serializers.ValidationError({"start": ["At most 31 days at a time."]})
        return {**attrs, "end": end}


class DetectionQueuedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["queued"])
    meters = serializers.IntegerField(help_text="Meters queued for detection.")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class KpiSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    precision = serializers.FloatField(help_text="Detected anomalies matching a known incident.")
    recall = serializers.FloatField(help_text="Known incidents detected.")
    f1 = serializers.FloatField()
    false_alerts_per_meter_month = serializers.FloatField()
    median_minutes_to_detect = serializers.FloatField(allow_null=True)
    incidents = serializers.IntegerField()
    anomalies = serializers.IntegerField()
    true_alarms = serializers.IntegerField()
    false_alarms = serializers.IntegerField()
    alerts = serializers.IntegerField()
    alerts_with_verdict = serializers.IntegerField()
    confirmed_share = serializers.FloatField(allow_null=True, help_text="Alerts wardens marked true, of those judged.")
    median_minutes_to_alert = serializers.FloatField(allow_null=True, help_text="Incident start to alert.")
