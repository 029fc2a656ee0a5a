"""The Redis channel layer as the settings configure it (channels_redis's pub/sub layer, unpatched):
a closed socket's cancelled receive ends at once and leaves no subscription, and the layer delivers on."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import redis.asyncio
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

pytestmark = pytest.mark.redis


def layer() -> Any:
    """A layer of its own (a fresh prefix), with the settings' backend and hosts."""
    config = settings.CHANNEL_LAYERS["default"]
    assert config["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    options = config["CONFIG"]
    assert isinstance(options, dict)
    return RedisPubSubChannelLayer(hosts=options["hosts"], prefix=f"test-{uuid.uuid4().hex}")


async def subscribed(channel: str) -> bool:
    """Whether any Redis client is subscribed to `channel` (Redis's own PUBSUB CHANNELS)."""
    client = redis.asyncio.Redis.from_url(str(settings.REDIS_URL))
    try:
        return bool(await client.pubsub_channels(channel))
    finally:
        await client.aclose()


async def test_a_cancelled_receive_ends_at_once_and_the_layer_delivers_on() -> None:
    """As a closed socket's consumer cancels its receive (a lost cancel once kept such receives alive)."""
    channels = layer()
    closing = await channels.new_channel()
    group = f"hostel-{uuid.uuid4().hex}"
    await channels.group_add(group, closing)
    task = asyncio.ensure_future(channels.receive(closing))
    await asyncio.sleep(0.2)  # waiting
    assert await subscribed(closing) is True
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done
    assert task.cancelled()
    assert await subscribed(closing) is False  # its subscription went with it

    staying = await channels.new_channel()
    await channels.group_add(group, staying)
    await channels.group_send(group, {"type": "alert.raised", "n": 1})
    assert await asyncio.wait_for(channels.receive(staying), 5) == {"type": "alert.raised", "n": 1}
    await channels.flush()
