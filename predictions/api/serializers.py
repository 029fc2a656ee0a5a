"""Response shapes of the predictions API: forecasts, segments, transformer risk, model versions."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from customers.models import Segment
from predictions.models import Forecast, ModelVersion, TransformerRisk


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
                "factors": [{"feature": "overload_hours_30d", "value": 41, "contribution": 0.12}],
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
        help_text="Top contributions: {feature, value, contribution}."
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
