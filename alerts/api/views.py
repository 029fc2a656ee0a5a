"""The alerts API: list and read in the user's scope, and every lifecycle action through services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from alerts import services
from alerts.api import serializers as s
from alerts.models import Alert, AlertComment, AlertEvent, AlertKind, Severity
from alerts.selectors import alert_assignee_find, alerts_for_user
from core.api.base import Conflict, HasRole, IdFilter, StableOrderingFilter, UtcDateTimeFilter, errors
from core.api.fastlist import FastListMixin


class AlertFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Alert.Status.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    kind = django_filters.MultipleChoiceFilter(choices=AlertKind.choices)
    hostel = IdFilter(field_name="hostel_id")
    since = UtcDateTimeFilter(field_name="last_seen_at", lookup_expr="gte", label="Seen at or after")

    class Meta:
        model = Alert
        fields = ["status", "severity", "kind", "hostel", "since"]


ACTION_ERRORS = errors(400, 401, 403, 404, 409, 429)


class AlertViewSet(FastListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alerts of the hostels the user may see."""

    permission_classes = [HasRole]
    lookup_value_regex = r"[0-9]{1,18}"
    filterset_class = AlertFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["last_seen_at", "opened_at", "severity", "status", "id"]
    ordering = ["-last_seen_at", "-id"]
    queryset = Alert.objects.none()

    def get_queryset(self) -> QuerySet[Alert]:
        queryset = alerts_for_user(user=self.request.user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("events", queryset=AlertEvent.objects.select_related("actor").order_by("id")),
                Prefetch("comments", queryset=AlertComment.objects.select_related("author").order_by("id")),
            )
        return queryset

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "retrieve":
            return s.AlertDetailSerializer
        if self.action == "create":
            return s.AlertCreateSerializer
        return s.AlertSerializer

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [IsAdminUser()]
        return list(super().get_permissions())

    def _done(self, alert: Alert) -> Response:
        return Response(s.AlertSerializer(alert).data)

    def _act(self, change: Any) -> Response:
        alert = self.get_object()
        try:
            return self._done(change(alert))
        except services.AlertTransitionError as error:
            raise Conflict(str(error)) from error

    @extend_schema(
        summary="Raise an alert by hand (staff); queued for the worker",
        request=s.AlertCreateSerializer,
        responses={202: s.AlertQueuedSerializer, **errors(400, 401, 403, 429)},
    )
    def create(self, request: Request) -> Response:
        from alerts.tasks import alert_raise_task

        serializer = s.AlertCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        kwargs = {
            "kind": data["kind"],
            "title": data["title"],
            "explanation": data["explanation"],
            "hostel_id": data["hostel"].pk if data.get("hostel") else None,
            "room_id": data["room"].pk if data.get("room") else None,
            "meter_id": data["meter"].pk if data.get("meter") else None,
            "score": data.get("score"),
            "excess_cost": str(data["excess_cost"]) if data.get("excess_cost") is not None else None,
            "dedupe_key": data.get("dedupe_key"),
            "source_payload": data["source_payload"],
        }
        transaction.on_commit(lambda: alert_raise_task.delay(**kwargs))
        body = {"status": "queued", "dedupe_key": kwargs["dedupe_key"], "accepted_at": timezone.now()}
        return Response(s.AlertQueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Acknowledge: seen, handling it", request=None, responses={200: s.AlertSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        return self._act(lambda alert: services.alert_acknowledge(alert=alert, user=request.user))

    @extend_schema(summary="Resolve", request=s.ResolveSerializer, responses={200: s.AlertSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["put", "post"])
    def resolve(self, request: Request, pk: str) -> Response:
        payload = s.ResolveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        note = payload.validated_data["note"]
        return self._act(lambda alert: services.alert_resolve(alert=alert, user=request.user, note=note))

    @extend_schema(summary="Snooze", request=s.SnoozeSerializer, responses={200: s.AlertSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, pk: str) -> Response:
        payload = s.SnoozeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        until = data.get("until") or timezone.now() + dt.timedelta(minutes=data["minutes"])
        return self._act(lambda alert: services.alert_snooze(alert=alert, user=request.user, until=until))

    @extend_schema(
        summary="Comment", request=s.CommentSerializer, responses={201: s.AlertCommentSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str) -> Response:
        payload = s.CommentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        alert = self.get_object()
        try:
            comment = services.alert_comment(alert=alert, user=request.user, body=payload.validated_data["body"])
        except services.AlertTransitionError as error:
            raise Conflict(str(error)) from error
        return Response(s.AlertCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="True or false alarm", request=s.FeedbackSerializer, responses={200: s.AlertSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def feedback(self, request: Request, pk: str) -> Response:
        payload = s.FeedbackSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        true_alarm = payload.validated_data["true_alarm"]
        return self._act(lambda alert: services.alert_feedback(alert=alert, user=request.user, true_alarm=true_alarm))

    @extend_schema(
        summary="Add the days a closure alert found closed to its site's calendar, and resolve it",
        description=(
            "For an alert of a working day that ran like a closed day (`source_payload.kind` "
            "`closure_unexpected`), on a hostel's meter or a feeder's: the days become a holiday in the "
            "calendar of the site the meter is on (a feeder's: the site its transformer feeds, or the only "
            "site), so they are expected from then on. Managers and administrators only (403 for wardens); "
            "404 when the alert offers no closed day. Idempotent."
        ),
        request=None,
        responses={200: s.ClosureAddedSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="calendar-closure")
    def calendar_closure(self, request: Request, pk: str) -> Response:
        alert = self.get_object()
        try:
            added = services.alert_closure_calendar_add(alert=alert, user=request.user)
        except services.NoClosureOffered as error:
            raise NotFound(str(error)) from error
        alert.refresh_from_db()
        body = {
            "alert": alert,
            "site": added.offer.site.code,
            "site_name": added.offer.site.name,
            "first": added.offer.first,
            "last": added.offer.last,
            "period": added.period.pk,
            "period_name": added.period.name,
        }
        return Response(s.ClosureAddedSerializer(body).data)

    @extend_schema(summary="Assign", request=s.AssignSerializer, responses={200: s.AlertSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        payload = s.AssignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        name = payload.validated_data["assignee"]

        def assign(alert: Alert) -> Alert:
            assignee = None if name is None else alert_assignee_find(alert=alert, username=name)
            if name is not None and assignee is None:
                raise services.AlertTransitionError(services.not_assignable(name))
            return services.alert_assign(alert=alert, user=request.user, assignee=assignee)

        return self._act(assign)
