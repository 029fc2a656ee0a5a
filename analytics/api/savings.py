"""Interventions and their measured savings over the API, scoped like every other read."""

from __future__ import annotations

from typing import Any

import pandas as pd
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.savings.services import intervention_measure, interventions_for_user
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
    """Logged interventions with the savings last measured; the detail measures them afresh, with days."""

    serializer_class = InterventionSerializer
    ordering_fields = ["start", "savings_fraction"]

    def get_queryset(self) -> Any:
        return interventions_for_user(user=self.request.user).order_by("-start", "pk")

    @extend_schema(
        summary="One intervention, measured now, with its days",
        responses={200: InterventionDetailSerializer, **DETAIL_ERRORS},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        intervention = self.get_object()
        result = intervention_measure(intervention=intervention)
        data = dict(InterventionSerializer(intervention).data)
        data["daily"] = (
            [
                {"day": day.date(), **{str(k): round(float(v), 3) for k, v in row.items()}}
                for day, row in zip(pd.DatetimeIndex(result.daily.index), result.daily.to_dict("records"), strict=True)
            ]
            if result
            else []
        )
        return Response(InterventionDetailSerializer(data).data)
