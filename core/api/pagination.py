"""Pagination of every list: page numbers, and opaque cursors for time series.

Its own module because DRF imports the default pagination class while importing its views.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request


class PagePagination(PageNumberPagination):
    """Pages of 100 (up to 1000 with `page_size`); views always order by a unique key last."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class TimeCursorPagination(CursorPagination):
    """Opaque cursors for time series: stable while new rows arrive. The view names its ordering."""

    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 5000
    ordering = ("start",)

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return tuple(getattr(view, "cursor_ordering", self.ordering))

    def decode_cursor(self, request: Request) -> Cursor | None:
        """A cursor is ours or refused with a 400: a forged one must not reach the database (where a
        position that is not a time, or past year 9999, was a 500)."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
        if cursor is not None and cursor.position is not None and not _time_position(str(cursor.position)):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor


def _time_position(position: str) -> bool:
    """Whether a cursor's position is a date or a date-time the database can compare with."""
    try:
        moment = parse_datetime(position)
        if moment is not None:
            if moment.tzinfo is not None:
                moment.astimezone(dt.UTC)
            return True
        return parse_date(position) is not None
    except (ValueError, OverflowError):
        return False
