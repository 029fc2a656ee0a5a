"""Forecasts, segments, transformer risk and model versions, read-only, in the user's scope."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from core.api.base import IdFilter, IsManager, ReadOnlyViewSet, UtcDateTimeFilter, scoped_views
from customers.models import Segment
from predictions import selectors
from predictions.api import serializers as s
from predictions.models import Forecast, ModelVersion, TransformerRisk


class ForecastFilter(django_filters.FilterSet):
    subject_kind = django_filters.ChoiceFilter(choices=Forecast.SubjectKind.choices)
    subject_id = IdFilter()
    horizon = django_filters.ChoiceFilter(choices=Forecast.Horizon.choices)
    start = UtcDateTimeFilter(field_name="target", lookup_expr="gte", label="Targets from")
    end = UtcDateTimeFilter(field_name="target", lookup_expr="lt", label="Targets before")

    class Meta:
        model = Forecast
        fields = ["subject_kind", "subject_id", "horizon", "start", "end"]


@scoped_views("demand forecasts", s.ForecastSerializer)
class ForecastViewSet(ReadOnlyViewSet):
    """Hourly (72 h) and daily (30 days) demand forecasts of hostels, transformers and the site, with actuals."""

    serializer_class = s.ForecastSerializer
    queryset = Forecast.objects.none()
    filterset_class = ForecastFilter
    ordering_fields = ["target", "issued_at", "id"]
    ordering = ["target"]

    def get_queryset(self) -> QuerySet[Forecast]:
        # Hourly unless asked; an unknown horizon is refused with a 400 by the filter set.
        horizon = self.request.query_params.get("horizon", "")
        if horizon not in Forecast.Horizon.values:
            horizon = Forecast.Horizon.HOURLY
        return selectors.forecasts_for_user(user=self.request.user, horizon=horizon)


@scoped_views("customer segments", s.SegmentSerializer)
class SegmentViewSet(ReadOnlyViewSet):
    """Groups of customers by how they use power, with a recommendation each."""

    serializer_class = s.SegmentSerializer
    queryset = Segment.objects.none()
    ordering_fields = ["name", "code", "id"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Segment]:
        return selectors.segments_for_user(user=self.request.user)


@scoped_views("transformer failure risks (latest per transformer)", s.TransformerRiskSerializer)
class TransformerRiskViewSet(ReadOnlyViewSet):
    """Each visible transformer's latest 30-day failure probability and its top factors."""

    serializer_class = s.TransformerRiskSerializer
    queryset = TransformerRisk.objects.none()
    ordering_fields = ["probability", "computed_at", "id"]
    ordering = ["-probability"]

    def get_queryset(self) -> QuerySet[TransformerRisk]:
        return selectors.transformer_risks_latest_for_user(user=self.request.user)


class ModelVersionFilter(django_filters.FilterSet):
    family = django_filters.ChoiceFilter(choices=ModelVersion.Family.choices)
    status = django_filters.ChoiceFilter(choices=ModelVersion.Status.choices)
    subject = django_filters.CharFilter()

    class Meta:
        model = ModelVersion
        fields = ["family", "status", "subject"]


@scoped_views("trained model versions (managers and admins)", s.ModelVersionSerializer)
class ModelVersionViewSet(ReadOnlyViewSet):
    """Every trained version with its metrics; versions span hostels, so wardens do not see them."""

    serializer_class = s.ModelVersionSerializer
    queryset = ModelVersion.objects.none()
    permission_classes = [IsManager]
    filterset_class = ModelVersionFilter
    ordering_fields = ["trained_at", "id"]
    ordering = ["-trained_at"]

    def get_queryset(self) -> QuerySet[ModelVersion]:
        return selectors.model_versions_queryset()
