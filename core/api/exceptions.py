"""API exceptions used below the views (parsers), so importing them loads no view."""

from __future__ import annotations

from rest_framework import exceptions, status


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body is larger than the server accepts; send smaller batches."
    default_code = "too_large"


def too_large(limit: int, length: int | None = None) -> RequestTooLarge:
    if length is None:
        return RequestTooLarge(f"The body is larger than {limit} bytes; at most {limit} bytes per request.")
    return RequestTooLarge(f"The body is {length} bytes; at most {limit} bytes per request.")
