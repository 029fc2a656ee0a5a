"""Bodies are bounded before anything else (issue 25): the served ASGI and WSGI apps refuse a body past
its path's limit as its Content-Length says so, or as its bytes arrive, before Django reads (and spools)
it; 413 in the API's error shape for /api/, a page for pages."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
from django.test import override_settings

CHUNK = 8 * 1024
LIMIT = 64 * 1024  # REQUEST_BODY_MAX_BYTES in these tests
OFFERED = 2 * 1024 * 1024  # what a hostile client would go on sending (400 MB in the report)


class ChunkedClient:
    """An ASGI client that sends a body without Content-Length in CHUNK pieces, counting what was taken."""

    def __init__(self, total: int = OFFERED) -> None:
        self.total = total
        self.taken = 0
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.taken >= self.total:
            await asyncio.sleep(3600)  # the client waits for its answer
        self.taken += CHUNK
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": self.taken < self.total}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")

    @property
    def headers(self) -> dict[bytes, bytes]:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        return dict(start["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")


def scope(path: str, *, headers: list[tuple[bytes, bytes]] | None = None, method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def serve(client: ChunkedClient, path: str, **kwargs: Any) -> None:
    from config.asgi import application  # the app the web processes serve

    asyncio.run(asyncio.wait_for(application(scope(path, **kwargs), client.receive, client.send), 30))


@pytest.fixture(autouse=True)
def small_limits() -> Any:
    with override_settings(REQUEST_BODY_MAX_BYTES=LIMIT, DATA_UPLOAD_MAX_MEMORY_SIZE=4 * LIMIT):
        yield


@pytest.mark.parametrize("path", ["/api/v1/alerts", "/api/v1/auth/token"])
def test_an_anonymous_chunked_api_body_is_refused_with_413_json_before_the_rest_is_read(path: str) -> None:
    client = ChunkedClient()
    serve(client, path)
    assert client.status == 413
    assert client.headers[b"content-type"] == b"application/json"
    assert client.headers[b"connection"] == b"close"
    error = json.loads(client.body)["error"]
    assert error["code"] == "too_large"
    assert f"at most {LIMIT} bytes" in error["message"]
    # Read up to the piece that passed the limit, nothing after it (Django would have read all 2 MB).
    assert client.taken <= LIMIT + CHUNK


def test_an_anonymous_chunked_body_to_a_page_gets_a_413_page() -> None:
    client = ChunkedClient()
    serve(client, "/accounts/login/")
    assert client.status == 413
    assert client.headers[b"content-type"].startswith(b"text/html")
    page = client.body.decode()
    assert "<h1>Too large</h1>" in page
    assert f"larger than {LIMIT} bytes" in page
    assert client.taken <= LIMIT + CHUNK


def test_a_declared_content_length_past_the_limit_is_refused_without_reading_a_byte() -> None:
    client = ChunkedClient()
    serve(client, "/api/v1/alerts", headers=[(b"content-length", str(400 * 1024 * 1024).encode())])
    assert client.status == 413
    assert client.taken == 0


def test_the_batch_endpoint_has_its_own_larger_limit() -> None:
    """Past the general limit but within DATA_UPLOAD_MAX_MEMORY_SIZE: Django answers (401: no key)."""
    within = ChunkedClient(total=2 * LIMIT)
    serve(within, "/api/v1/readings/batch")
    assert within.status == 401
    assert within.taken == 2 * LIMIT
    past = ChunkedClient()
    serve(past, "/api/v1/readings/batch")
    assert past.status == 413
    assert 4 * LIMIT < past.taken <= 4 * LIMIT + CHUNK


@override_settings(READINGS_UPLOAD_MAX_BYTES=8 * LIMIT)
def test_the_upload_page_has_its_own_larger_limit() -> None:
    """Within the upload limit: Django answers (CSRF's 403: no cookie); past it and its form's allowance: 413."""
    from config.bodylimit import MULTIPART_ALLOWANCE

    within = ChunkedClient(total=2 * LIMIT)
    serve(within, "/meters/upload/")
    assert within.status == 403
    assert within.taken == 2 * LIMIT
    past = ChunkedClient(total=8 * LIMIT + MULTIPART_ALLOWANCE + 4 * CHUNK)
    serve(past, "/meters/upload/")
    assert past.status == 413
    assert past.taken <= 8 * LIMIT + MULTIPART_ALLOWANCE + CHUNK


def test_a_small_body_still_reaches_django() -> None:
    client = ChunkedClient(total=CHUNK)
    serve(client, "/api/v1/alerts")
    assert client.status == 401  # Django's answer: the body was not refused


class UnreadInput(io.RawIOBase):
    """A WSGI input that fails the test if anything reads it."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")

    readinto = read  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"CONTENT_LENGTH": str(400 * 1024 * 1024)}, "413"), ({"HTTP_TRANSFER_ENCODING": "chunked"}, "411")],
)
def test_the_wsgi_ingest_app_refuses_a_long_or_unmeasured_body_without_reading_it(
    headers: dict[str, str], status: str
) -> None:
    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/readings/batch",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8001",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": UnreadInput(),
        "wsgi.url_scheme": "http",
        "CONTENT_TYPE": "application/json",
        **headers,
    }
    started: list[str] = []
    body = b"".join(application(environ, lambda s, h, *a: started.append(s)))
    assert started[0].startswith(status)
    assert json.loads(body)["error"]["code"] in ("too_large", "length_required")
