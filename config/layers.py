"""An in-memory channel layer that may be written to from any thread.

Channels' InMemoryChannelLayer keeps asyncio queues that belong to the server's event loop.
In embedded mode the Celery worker runs in another thread, so its sends are handed to the
loop that receives (the server's) instead of touching those queues from the wrong thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

import channels_redis.core
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


class RedisChannelLayer(channels_redis.core.RedisChannelLayer):
    """channels_redis's layer, whose receive ends once cancelled even if a blocking read swallowed the cancel.

    A receive waits in blocking reads of `brpop_timeout` (5 s). Settings give its connections a
    socket timeout longer than that read, because with redis-py 8's default (also 5 s) every quiet
    socket's receive failed with a TimeoutError and its consumer died. Sometimes the cancel of a
    finished consumer's receive never reaches the read: the read ends empty after 5 s and the loop
    blocks again, and so on forever, leaving a task and a Redis connection for every closed socket.
    The old 5 s timeout had hidden that by killing such a read with a TimeoutError (what the web
    process logged at shutdown). Now a read that ends empty in a task with a pending cancel ends the
    receive (tests/integration/test_real_services.py).
    """

    async def _brpop_with_clean(self, index: int, channel: str, timeout: float) -> Any:
        member = await super()._brpop_with_clean(index, channel, timeout)
        task = asyncio.current_task()
        if member is None and task is not None and task.cancelling():
            raise asyncio.CancelledError
        return member
