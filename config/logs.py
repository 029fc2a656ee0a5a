"""Logging filters named in settings.LOGGING: the request id on every line, refused requests as one line."""

from __future__ import annotations

import logging

from django_guid import get_guid


class RequestIdFilter(logging.Filter):
    """Put the current request id (django-guid's, also set inside Celery tasks) on the record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = get_guid() or "-"
        return True


class RefusedRequestFilter(logging.Filter):
    """A request refused with 403 or 404 is the client's mistake or a probe, not the server's: Django logs
    it with the exception's traceback attached; keep the one line that names the path and the status."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.") and getattr(record, "status_code", None) in (403, 404):
            record.exc_info = None
            record.exc_text = None
        return True
