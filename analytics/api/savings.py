"""Interventions and their measured savings over the API, scoped like every other read."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.savings.services import interventions_for_user, measurement_days
from core.api.base import DETAIL_ERRORS, ReadOnlyViewSet, scoped_views


class InterventionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    where = serializers.CharField()
    meter = serializers.CharField(source="meter.serial", allow_null=True, default=None)
    hostel_id = serializers.IntegerField(allow_null=True)
    site = serializers.CharField(source="site.code", allow_null=True, default=None)
    start = serializers.DateField()
    expected_saving_fraction = serializers.FloatField(allow_null=True)
    expected_kwh_per_year = serializers.FloatField(allow_null=True)
    measured_at = serializers.DateTimeField(allow_null=True)
    measured_until = serializers.DateField(allow_null=True)
    savings_kwh = serializers.FloatField(allow_null=True, help_text="Avoided kWh over the days with data.")
    savings_fraction = serializers.FloatField(
        allow_null=True, help_text="Share of the baseline saved; positive means less energy used."
    )
    fraction_low = serializers.FloatField(allow_null=True, help_text="90 % interval (ASHRAE Guideline 14).")
    fraction_high = serializers.FloatField(allow_null=True)
    baseline_cv_rmse = serializers.FloatField(allow_null=True)
    baseline_nmbe = serializers.FloatField(allow_null=True)
    baseline_holdout_error = serializers.FloatField(
        allow_null=True,
        help_text="Savings fraction the baseline model measured on held-out days before the change (truth 0); "
        "the interval is widened by such errors.",
    )
    measure_error = serializers.CharField(help_text="Why there is no measurement (empty when there is one).")


class SavingsDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    baseline_kwh = serializers.FloatField()
    actual_kwh = serializers.FloatField()
    cumulative_savings_kwh = serializers.FloatField()


class InterventionDetailSerializer(InterventionSerializer):
    daily = SavingsDaySerializer(many=True, help_text="Per reporting day; empty without a measurement.")


@scoped_views("interventions", InterventionSerializer)
class InterventionViewSet(ReadOnlyViewSet):
    """Logged interventions with the savings last measured (on save, nightly, or "Measure now"); the detail
    adds the measured days. Reading never measures: `measured_at` says when the figures were made."""

    serializer_class = InterventionSerializer
    ordering_fields = ["start", "savings_fraction"]

    def get_queryset(self) -> Any:
        return interventions_for_user(user=self.request.user).order_by("-start", "pk")

    @extend_schema(
        summary="One intervention as last measured, with its days",
        responses={200: InterventionDetailSerializer, **DETAIL_ERRORS},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        intervention = self.get_object()
        data = dict(InterventionSerializer(intervention).data)
        data["daily"] = measurement_days(intervention) if not intervention.measure_error else []
        return Response(InterventionDetailSerializer(data).data)
