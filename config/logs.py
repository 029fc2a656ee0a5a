"""Logging: settings.LOGGING (logging_config) and its filters: a request id on every line, a refusal as one line."""

from __future__ import annotations

import logging
from typing import Any

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


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    """Django's LOGGING: one line per record on stderr, plain text or JSON (`fmt`), with its request id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "config.logs.RequestIdFilter"},
            "refused_request": {"()": "config.logs.RefusedRequestFilter"},
        },
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "timestamp": False,
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["request_id", "refused_request"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's default configuration gives "django" a console handler of its own (with DEBUG on) that
            # printed every warning a second time beside the root's: one handler, the root's.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.db.backends": {"level": "WARNING"},
            # Its own chatter ("Setting task request header ...") on every task: not for people.
            "django_guid": {"level": "WARNING"},
            # uvicorn is not named here: config/serve.py gives it no logging set-up of its own, so its lines reach
            # the handler above, and turns its access log off (a refused request is Django's one line, with its
            # request id). Naming "uvicorn" would make dictConfig reset "uvicorn.access" and turn it back on.
        },
    }
