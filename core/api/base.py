"""API plumbing every app shares: error bodies, roles, pagination.

It lives in `core`, below every app, because imports point downward: every app may use it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.exceptions import RequestTooLarge, too_large
from core.api.pagination import PagePagination, TimeCursorPagination
from core.api.permissions import HasRole, IsManager
from core.api.throttling import refusal_throttled


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object's state does not allow this action."
    default_code = "conflict"


def body_size_check(request: Request) -> None:
    """Refuse a body over DATA_UPLOAD_MAX_MEMORY_SIZE before DRF's parsers read it (they bypass Django's check)."""
    from django.conf import settings

    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ValidationError({"non_field_errors": ["Invalid Content-Length header."]}) from None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length > limit:
        raise too_large(limit, length)


def _flatten(detail: Any) -> Any:
    """ErrorDetail trees become plain strings, lists and dicts."""
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _first_message(fields: Any) -> str:
    while isinstance(fields, dict | list) and fields:
        fields = next(iter(fields.values())) if isinstance(fields, dict) else fields[0]
    return str(fields) if fields else "Invalid input."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error has one body: {"error": {"code", "message", "fields"}}.

    `fields` maps each bad input (field, query parameter, or list index) to its messages; it is
    empty for errors that are not about one input.
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):  # Django's own limit, met by form and multipart bodies
        exc = too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed | exceptions.PermissionDenied):
        exc = refusal_throttled(exc, context)  # refused before the throttles ran: counted all the same
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = _flatten(detail) if isinstance(detail, dict) else {"non_field_errors": _flatten(detail)}
        body = {"code": "invalid", "message": _first_message(fields), "fields": fields}
    elif isinstance(exc.detail, dict):
        # simplejwt's token errors carry {"detail", "code", "messages"}: its words, not a Python repr.
        detail = exc.detail
        code = detail.get("code") or exc.default_code
        message = detail.get("detail") or _first_message(_flatten(detail))
        body = {"code": str(code), "message": str(message), "fields": {}}
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = {"code": str(code), "message": str(exc.detail), "fields": {}}
    response.data = {"error": body}
    return response


class _ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable: invalid, not_found, not_authenticated, throttled...")
    message = serializers.CharField(help_text="For people: the first problem found.")


# "fields" would shadow Serializer.fields if declared in the class body.
_ErrorBodySerializer._declared_fields["fields"] = serializers.DictField(
    child=serializers.JSONField(), help_text="Per input (field, query parameter, list index): its messages."
)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Bad query parameter",
            value={
                "error": {
                    "code": "invalid",
                    "message": "Enter a valid date/time.",
                    "fields": {"start": ["Enter a valid date/time."]},
                }
            },
            response_only=True,
        ),
        OpenApiExample(
            "Not found",
            value={"error": {"code": "not_found", "message": "No Room matches the given query.", "fields": {}}},
            response_only=True,
        ),
    ]
)
class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    error = _ErrorBodySerializer()


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Documented error responses for `extend_schema(responses=...)`."""
    descriptions = {
        400: "Invalid input; `error.fields` names each bad field or query parameter.",
        401: "Not authenticated, or an unknown, revoked or expired token.",
        403: "Authenticated but not allowed.",
        404: "No such object in the hostels you may see.",
        409: "The object's state does not allow this action.",
        413: "The body is larger than the server accepts; send smaller batches.",
        429: "Too many requests; retry after the `Retry-After` header's seconds.",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in codes}


READ_ERRORS = (400, 401, 403, 429)


class StableOrderingFilter(OrderingFilter):
    """`?ordering=` as DRF does it, with the primary key appended so pages never overlap or skip rows."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering.append("id")
        return ordering


FILTERS: list[Any] = [django_filters.rest_framework.DjangoFilterBackend, StableOrderingFilter]
LIST_ERRORS = errors(*READ_ERRORS)
DETAIL_ERRORS = errors(401, 403, 404, 429)


def scoped_views(name: str, serializer: type[BaseSerializer]) -> Any:
    """Summaries and documented errors for a read-only list + detail viewset."""
    return extend_schema_view(
        list=extend_schema(summary=f"List {name} you may see", responses={200: serializer, **LIST_ERRORS}),
        retrieve=extend_schema(summary=f"One of the {name}", responses={200: serializer, **DETAIL_ERRORS}),
    )


class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List and detail, filtered and ordered; ids in URLs are numbers (anything else is a 404)."""

    filter_backends = FILTERS
    lookup_value_regex = r"[0-9]{1,18}"


__all__ = ["HasRole", "IsManager", "PagePagination", "RequestTooLarge", "TimeCursorPagination"]


MAX_ID = 2**63 - 1  # BigAutoField; larger numbers overflow the database driver


class IdFilter(django_filters.NumberFilter):
    """An id in a query string: a whole number the database can hold, else a 400 naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class SmallIntFilter(django_filters.NumberFilter):
    """A small whole number (floors and the like)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -32768)
        kwargs.setdefault("max_value", 32767)
        super().__init__(*args, **kwargs)


class _UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    def clean(self, value: Any) -> Any:
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            # PostgreSQL refuses offsets past ±15:59 that Python accepts; UTC is what we store anyway.
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("Date and time out of range.", code="overflow") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 moment in a query string, compared in UTC."""

    field_class = _UtcDateTimeField
