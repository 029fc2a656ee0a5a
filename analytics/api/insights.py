"""Insights, the league, opportunities and meter health over the API (scoped like every other endpoint)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import MeterHealthScore
from analytics.selectors.energy import insights_for, subject_for_hostel, subject_for_room, subject_for_site
from analytics.selectors.league import league_for_user, opportunities_for_user
from analytics.selectors.meter_health import meter_health_rows_for_user
from core.api.base import READ_ERRORS, PagePagination, errors
from meters.models import Hostel
from meters.selectors import hostel_for_user
from meters.selectors.api import room_for_user


class InsightSerializer(serializers.Serializer):
    key = serializers.ChoiceField(["baseload", "out_of_hours", "vacation", "week_on_week", "year_on_year"])
    title = serializers.CharField()
    summary = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="kW, a share, a fraction of term or a change.")
    unit = serializers.CharField()
    kwh_per_year = serializers.FloatField(allow_null=True)
    cost_per_year = serializers.FloatField(allow_null=True, help_text="In `currency`; null without a tariff.")
    currency = serializers.CharField()
    kg_co2_per_year = serializers.FloatField(allow_null=True)
    normalized = serializers.CharField(help_text="What the figure is normalized for; empty when raw.")
    evidence = serializers.DictField()


class InsightsQuerySerializer(serializers.Serializer):
    hostel = serializers.IntegerField(required=False, min_value=1)
    room = serializers.IntegerField(required=False, min_value=1)
    site = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs) != 1:
            raise serializers.ValidationError({"hostel": ["Give exactly one of hostel, room or site."]})
        return attrs


class LeagueRowSerializer(serializers.Serializer):
    hostel_id = serializers.IntegerField()
    name = serializers.CharField()
    place = serializers.IntegerField(allow_null=True, help_text="Place among every hostel of its site(s).")
    of = serializers.IntegerField(help_text="Hostels ranked.")
    kwh_per_bed_day = serializers.FloatField(allow_null=True, help_text="Last week, weather-normalized.")
    previous_kwh_per_bed_day = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    against_target = serializers.FloatField(allow_null=True, help_text="0.12 is 12 % above target.")


class OpportunitySerializer(serializers.Serializer):
    hostel_id = serializers.IntegerField()
    hostel = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    kwh_per_year = serializers.FloatField()
    cost_per_year = serializers.FloatField(allow_null=True)
    currency = serializers.CharField()
    kg_co2_per_year = serializers.FloatField()
    evidence = serializers.DictField()


class MeterHealthSerializer(serializers.Serializer):
    meter_id = serializers.IntegerField()
    serial = serializers.CharField()
    kind = serializers.CharField()
    hostel_id = serializers.IntegerField(allow_null=True)
    room_id = serializers.IntegerField(allow_null=True)
    score = serializers.IntegerField(min_value=0, max_value=100)
    communication = serializers.FloatField()
    quality = serializers.FloatField()
    agreement = serializers.FloatField(allow_null=True)
    trend = serializers.ChoiceField(["improving", "stable", "degrading"])
    trend_points = serializers.FloatField()
    recommendation = serializers.CharField()
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the stored score was computed; null: scored on the spot (not stored yet)."
    )


class InsightsView(APIView):
    """Baseload, out of hours, vacation, week-on-week and year-on-year of one hostel, room or site."""

    @extend_schema(
        summary="Insights of a hostel, room or site, each with kWh, cost and kg CO2 a year",
        parameters=[
            OpenApiParameter("hostel", int, description="A hostel id."),
            OpenApiParameter("room", int, description="A room id."),
            OpenApiParameter("site", int, description="A site id (its hostels that you may see)."),
        ],
        responses={200: InsightSerializer(many=True), **errors(*READ_ERRORS, 404)},
    )
    def get(self, request: Request) -> Response:
        params = InsightsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if "hostel" in data:
            hostel = hostel_for_user(user=request.user, hostel_id=data["hostel"])
            if hostel is None:
                raise exceptions.NotFound()
            subject = subject_for_hostel(hostel)
        elif "room" in data:
            room = room_for_user(user=request.user, room_id=data["room"])
            if room is None:
                raise exceptions.NotFound()
            subject = subject_for_room(room)
        else:
            hostels = list(Hostel.objects.visible_to(request.user).filter(site_id=data["site"]).select_related("site"))
            if not hostels:
                raise exceptions.NotFound()
            subject = subject_for_site(hostels[0].site, hostels)
        return Response(InsightSerializer([asdict(i) for i in insights_for(subject=subject)], many=True).data)


class LeagueView(APIView):
    """The hostels you may see, ranked by last week's kWh per occupied bed and day in average weather."""

    @extend_schema(summary="League of hostels against their targets", responses={200: LeagueRowSerializer(many=True)})
    def get(self, request: Request) -> Response:
        rows = [{k: v for k, v in asdict(r).items() if k != "week"} for r in league_for_user(user=request.user)]
        return Response(LeagueRowSerializer(rows, many=True).data)


class OpportunitiesView(APIView):
    """What is worth doing among the hostels you may see, worth most first, with the evidence."""

    @extend_schema(summary="Opportunities ranked by cost a year", responses={200: OpportunitySerializer(many=True)})
    def get(self, request: Request) -> Response:
        rows = [asdict(o) for o in opportunities_for_user(user=request.user)]
        return Response(OpportunitySerializer(rows, many=True).data)


class MeterHealthView(GenericAPIView):
    """Health score (0-100) of the meters you may see, worst first, with its parts and a recommendation; in pages
    of 100 (`page`, `page_size` up to 1,000), like every other list."""

    serializer_class = MeterHealthSerializer
    pagination_class = PagePagination
    queryset = MeterHealthScore.objects.none()  # for the schema only: rows come from meter_health_rows_for_user

    @extend_schema(
        summary="Meter health scores",
        parameters=[OpenApiParameter("meter", int, description="Only this meter id.")],
        responses={200: MeterHealthSerializer(many=True), **errors(*READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        meter = request.query_params.get("meter")
        if meter is not None and not meter.isdigit():
            raise exceptions.ValidationError({"meter": ["A meter id (a whole number)."]})
        # A university's 5,039 meters serialized whole took 0.9 to 1.9 s (issue 29): a page is read and built.
        rows = meter_health_rows_for_user(user=request.user, meter_id=int(meter) if meter else None)
        page: list[Any] | None = self.paginate_queryset(rows)  # type: ignore[arg-type]
        return self.get_paginated_response(MeterHealthSerializer([asdict(h) for h in page or []], many=True).data)
