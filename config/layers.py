"""The embedded mode's channel layer: Channels' in-memory layer, written to from any thread.

Production uses channels_redis's `RedisPubSubChannelLayer` as it is (config/settings.py).

Why this class still exists: Channels' InMemoryChannelLayer keeps asyncio queues whose waiting
receives are futures of the server's event loop, and it is documented for one process and one loop.
In embedded mode the Celery workers run in threads of the web process, and their `async_to_sync`
sends run on loops of their own: a `put` from there would complete a future of the server's loop
from the wrong thread, which asyncio does not allow (the waiting socket is not woken, or the loop
is corrupted). Here every operation runs on the loop that receives (the server's), handed over with
`run_coroutine_threadsafe`. Channels has no thread-safe in-memory layer to use instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    """InMemoryChannelLayer whose send and group_send are safe from other threads' loops."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._home_loop: asyncio.AbstractEventLoop | None = None

    async def receive(self, channel: str) -> dict[str, Any]:
        self._home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    async def _on_home_loop(self, coroutine: Any) -> Any:
        home = self._home_loop
        if home is None or home.is_closed() or home is asyncio.get_running_loop():
            return await coroutine
        future = asyncio.run_coroutine_threadsafe(coroutine, home)
        return await asyncio.wrap_future(future)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._on_home_loop(super().send(channel, message))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self._on_home_loop(super().group_send(group, message))

    async def group_add(self, group: str, channel: str) -> None:
        await self._on_home_loop(super().group_add(group, channel))

    async def group_discard(self, group: str, channel: str) -> None:
        await self._on_home_loop(super().group_discard(group, channel))
