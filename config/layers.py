"""Channel layers: in memory (embedded) written to from any thread, and channels_redis made cancel-safe.

Channels' InMemoryChannelLayer keeps asyncio queues that belong to the server's event loop.
In embedded mode the Celery worker runs in another thread, so its sends are handed to the
loop that receives (the server's) instead of touching those queues from the wrong thread.
With Redis, RedisChannelLayer below.
"""

from __future__ import annotations

import asyncio
import functools
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


class CancelSafeSend:
    """For redis-py's asyncio connections: a cancel that arrives while a command is being sent is kept.

    With a socket timeout redis-py sends through `asyncio.wait_for`, and on Python 3.11 wait_for
    returns the send's result and drops a cancel that arrives as the send completes (CPython
    gh-86296, fixed in 3.12). A closed socket's consumer cancels its receive, often while the
    receive is sending BZPOPMIN; the lost cancel left the receive blocking again every 5 s forever,
    holding the consumer's task and keeping the web process from stopping (seen). Here a cancel
    counted during the send (`Task.cancelling()` went up) is raised after it, and the connection is
    dropped so no later command reads the abandoned command's reply.
    """

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        task = asyncio.current_task()
        before = task.cancelling() if task is not None else 0
        await super().send_packed_command(command, check_health)  # type: ignore[misc]
        if task is not None and task.cancelling() > before:
            await self.disconnect(nowait=True)  # type: ignore[attr-defined]
            raise asyncio.CancelledError


class RedisChannelLayer(channels_redis.core.RedisChannelLayer):
    """channels_redis's layer, on connections that keep a cancel arriving during a send (CancelSafeSend).

    Settings give its connections a socket timeout longer than its 5 s blocking reads: with redis-py
    8's default (also 5 s) every quiet socket's receive failed with a TimeoutError and its consumer
    died. That short timeout had also ended, with a logged TimeoutError, the receives whose cancel
    wait_for had lost; with the longer one they would have lived on (config/tests/test_channel_layer.py).
    """

    def create_pool(self, index: int) -> Any:
        pool = super().create_pool(index)  # one per event loop and host
        pool.connection_class = cancel_safe(pool.connection_class)
        return pool


@functools.cache
def cancel_safe(connection_class: type) -> type:
    """`connection_class` with CancelSafeSend first (made once per class, whatever the URL's scheme chose)."""
    if issubclass(connection_class, CancelSafeSend):
        return connection_class
    return type(f"CancelSafe{connection_class.__name__}", (CancelSafeSend, connection_class), {})
