"""The one-trip ASGI handler answers as Django's does, with fewer handoffs to the sync thread."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler

from config.handler import OneTripASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)


async def _get(handler: Any, path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, bytes, dict[str, str], int]:
    trips = 0
    original = SyncToAsync.__call__

    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal trips
        trips += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(handler, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(10)
    body = b""
    while True:
        message = await communicator.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    monkeypatch.setattr(SyncToAsync, "__call__", original)
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], body, headers, trips


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/sites", "/no-such-page/"])
async def test_one_trip_handler_answers_as_djangos_with_fewer_thread_handoffs(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = await _get(OneTripASGIHandler(), path, monkeypatch)
    theirs = await _get(ASGIHandler(), path, monkeypatch)
    assert ours[0] == theirs[0]  # same status: a page, a refusal without credentials, a 404
    assert set(ours[2]) - {"server-timing"} == set(theirs[2]) - {"server-timing"}  # same headers
    if path == "/accounts/login/":
        assert b'name="csrfmiddlewaretoken"' in ours[1]
    assert ours[3] < theirs[3], (ours[3], theirs[3])
    assert ours[3] <= 4
