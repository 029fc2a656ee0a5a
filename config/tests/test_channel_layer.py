"""The Redis channel layer as the settings configure it: a receive cancelled as it sends BZPOPMIN ends at once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from django.conf import settings
from redis.asyncio.connection import AbstractConnection

from config.layers import RedisChannelLayer

pytestmark = pytest.mark.redis


def layer() -> RedisChannelLayer:
    """A layer of its own (a fresh prefix), with the settings' hosts: their socket timeout and pool size."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    assert isinstance(config, dict)
    return RedisChannelLayer(hosts=config["hosts"], prefix=f"test-{uuid.uuid4().hex}")


async def test_a_receive_cancelled_as_it_sends_bzpopmin_ends_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a closed socket's consumer cancels its receive: on Python 3.11 wait_for would drop that cancel."""
    channels = layer()
    channel = await channels.new_channel()
    receiving: list[asyncio.Task[Any]] = []
    send = AbstractConnection._send_packed_command

    async def send_then_cancel(self: AbstractConnection, command: Any) -> None:
        await send(self, command)
        if receiving and b"BZPOPMIN" in b"".join(bytes(part) for part in command):
            receiving.pop().cancel()  # arrives as the send completes

    monkeypatch.setattr(AbstractConnection, "_send_packed_command", send_then_cancel)
    task = asyncio.ensure_future(channels.receive(channel))
    receiving.append(task)
    done, _ = await asyncio.wait({task}, timeout=2)  # a lost cancel would block 5 s and again
    assert task in done
    assert task.cancelled()
    monkeypatch.undo()

    # The connection that sent the abandoned read was dropped: the layer still delivers, once.
    await channels.send(channel, {"type": "after.cancel", "n": 1})
    message = await asyncio.wait_for(channels.receive(channel), 5)
    assert message == {"type": "after.cancel", "n": 1}
    await channels.flush()
    await channels.close_pools()
