"""Pagination of every list: page numbers, and opaque cursors for time series.

Its own module because DRF imports the default pagination class while importing its views.
"""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination, PageNumberPagination
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
