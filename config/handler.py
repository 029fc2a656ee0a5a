"""Django's ASGI handler with one trip to the sync thread per request instead of one per layer.

Every middleware here is synchronous, and so is every view. Django's ASGIHandler still builds the
async middleware chain: the views and each sync middleware are adapted one by one, so a request
goes back and forth between the event loop and the sync thread many times (counted by the test:
16 `SyncToAsync` calls for a page, against 3 here), each a thread handoff that costs CPU under
load. Here the chain is built synchronously, as under WSGI, and the whole of it runs in one
`sync_to_async` call, thread-sensitive as Django's own adapters are (one sync thread per request
context, so connections and transactions behave as before).

Request parsing, signals and sending the response stay Django's: only `get_response_async` changes.
An async view would still work (Django wraps it with `async_to_sync`), only less efficiently.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class OneTripASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: Any) -> Any:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
