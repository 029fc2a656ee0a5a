"""Request bodies are bounded before anything else reads them (issue 25).

Django's ASGIHandler reads a request's whole body into a temporary file (spooled to disk past
FILE_UPLOAD_MAX_MEMORY_SIZE) before any middleware or view runs: an anonymous 400 MB chunked POST
was written to disk before its 405 or 403. `BodyLimit` wraps the HTTP app: a request whose
`Content-Length` passes its path's limit is answered 413 without reading a byte of it, and a body
without one (chunked) is counted as it arrives and refused as soon as it passes the limit; Django is
told the client left, so it stops reading, and the answer closes the connection.

`WSGIBodyLimit` is the same for the WSGI processes (gateways' ingest workers): Django's WSGI request
reads a body lazily and only up to its `Content-Length`, so there the declared length is checked, and
a body without one is refused with 411 (Django would read it as empty).

The answer is the API's error body for /api/ and a page for everything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

# The readings upload page takes a file up to READINGS_UPLOAD_MAX_BYTES; its form adds a few fields
# and the multipart boundaries, and the page itself answers a file just over the limit with its form.
UPLOAD_PATHS = ("/meters/upload/",)
MULTIPART_ALLOWANCE = 1024 * 1024
# Gateways' batches: up to DATA_UPLOAD_MAX_MEMORY_SIZE (the batch endpoints' documented limit).
BULK_PATHS = ("/api/v1/readings/batch", "/api/v1/transformer-condition/batch")


def body_limit(path: str) -> int:
    """The most bytes a request body to `path` may have."""
    if path.startswith(UPLOAD_PATHS):
        return int(settings.READINGS_UPLOAD_MAX_BYTES) + MULTIPART_ALLOWANCE
    if path.startswith(BULK_PATHS):
        return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return min(int(settings.REQUEST_BODY_MAX_BYTES), int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


def refusal(path: str, limit: int, *, status: int = 413) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of the answer to a body past `limit` (or, 411, one of unknown length)."""
    if status == 411:
        code, message = "length_required", "Send the body with a Content-Length header."
    else:
        code, message = "too_large", f"The body is larger than {limit} bytes; at most {limit} bytes per request."
    if path.startswith("/api/"):
        body = json.dumps({"error": {"code": code, "message": message, "fields": {}}}).encode()
        content_type = b"application/json"
    else:
        title = "Length required" if status == 411 else "Too large"
        body = render_to_string("413.html", {"title": title, "message": message}).encode()
        content_type = b"text/html; charset=utf-8"
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        # The rest of the body is not read: the connection cannot carry another request.
        (b"connection", b"close"),
    ]
    return status, headers, body


def _declared_length(value: str | bytes | None) -> int | None:
    try:
        return int(value) if value not in (None, b"", "") else None  # type: ignore[arg-type]
    except ValueError:
        return None


class BodyLimit:
    """ASGI middleware for HTTP: refuse a body past its path's limit before the app reads it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = body_limit(path)
        declared = _declared_length(dict(scope.get("headers") or []).get(b"content-length"))
        if declared is not None and declared > limit:
            await self._refuse(send, path, limit)
            return
        received = 0
        refused = started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True  # the app hears that the client left, and reads no further
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started
            if refused and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, tracked_send)
        if refused and not started:
            await self._refuse(send, path, limit)

    @staticmethod
    async def _refuse(send: Any, path: str, limit: int) -> None:
        status, headers, body = refusal(path, limit)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class WSGIBodyLimit:
    """WSGI middleware: refuse a declared body past its path's limit, and one of unknown length."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        limit = body_limit(path)
        declared = _declared_length(environ.get("CONTENT_LENGTH"))
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if (declared is not None and declared > limit) or (chunked and declared is None):
            status, headers, body = refusal(path, limit, status=411 if declared is None else 413)
            reason = "Length Required" if status == 411 else "Content Too Large"
            # WSGI servers set the connection header themselves (it is hop-by-hop).
            wsgi_headers = [(k.decode(), v.decode()) for k, v in headers if k != b"connection"]
            start_response(f"{status} {reason}", wsgi_headers)
            return [body]
        return self.app(environ, start_response)
