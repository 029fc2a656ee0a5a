"""ws/alerts/ under garbage: an error message and the socket stays, and a socket always cleans up.

Runs on the in-memory channel layer, and on Redis when REDIS_URL is set (the settings pick it).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator

from alerts.consumers import AlertStreamConsumer
from alerts.realtime import EVERYONE_GROUP, hostel_group

pytestmark = [pytest.mark.django_db(transaction=True)]

GARBAGE_TEXT = [
    "{not json",
    "[" * 100_000 + "]" * 100_000,  # deeper than any parser recurses
    '{"type": "resume", "since": "²"}',  # a digit to str.isdigit(), not to int()
    '{"type": "resume", "since": "0001-01-01T00:00:00+14:00"}',  # before year 1 in UTC
    '{"type": "resume", "since": "9999-12-31T23:59:59-14:00"}',  # past year 9999 in UTC
    '{"type": "resume", "since": 100000000000000000000000000000}',
    '{"type": "resume", "since": {"nested": [1, 2]}}',
    '"just a string"',
    '{"type": "explode"}',
    "x" * 100_000,
]


@pytest.fixture(autouse=True)
async def close_thread_connections() -> Any:
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


class Recorded(AlertStreamConsumer):
    """The consumer, remembered so a test can look at its channel and sweeper afterwards."""

    made: list[Recorded] = []

    async def open(self) -> None:
        Recorded.made.append(self)
        await super().open()


async def _member(channel: str, groups: list[str]) -> bool:
    """Whether the channel is in any of the groups, as the layer in use keeps it."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return any(channel in layer.groups.get(group, {}) for group in groups)
    import redis.asyncio as redis

    # channels_redis's pub/sub layer: a group is a Redis pub/sub channel this process subscribes to
    # while any of its channels is in the group (this test's socket is the only one).
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        counts = await client.pubsub_numsub(*[f"{layer.prefix}__group__{group}" for group in groups])
    finally:
        await client.aclose()
    return any(count > 0 for _, count in counts)


async def _open(user: Any, path: str = "/ws/alerts/") -> tuple[WebsocketCommunicator, Recorded]:
    Recorded.made.clear()
    communicator = WebsocketCommunicator(Recorded.as_asgi(), path)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator, Recorded.made[0]


async def _still_answers(communicator: WebsocketCommunicator) -> None:
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5)) == {"type": "pong"}


async def test_garbage_on_the_alert_socket_gets_an_error_message_and_the_socket_stays(
    campus: Any, warden_a: Any
) -> None:
    communicator, consumer = await _open(warden_a)
    for text in GARBAGE_TEXT:
        await communicator.send_to(text_data=text)
        answer = await communicator.receive_json_from(timeout=10)
        assert answer["type"] in ("error", "resumed"), (text[:60], answer)
        await _still_answers(communicator)
    await communicator.send_to(bytes_data=b"\x00\xff binary")
    assert (await communicator.receive_json_from(timeout=5))["type"] == "error"
    await _still_answers(communicator)
    sweeper, groups, channel = consumer.sweeper, list(consumer.groups_joined), consumer.channel_name
    assert sweeper is not None
    assert groups
    assert await _member(channel, groups)
    await communicator.disconnect()
    await asyncio.sleep(0)
    assert sweeper.done(), "no sweeper task left behind"
    assert not await _member(channel, groups), "no group membership left behind"


@pytest.mark.parametrize("since", ["%C2%B2", "0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-14:00", "9" * 40])
async def test_a_garbage_cursor_in_the_socket_address_is_an_error_message_not_a_crash(
    campus: Any, warden_a: Any, since: str
) -> None:
    communicator, _consumer = await _open(warden_a, f"/ws/alerts/?since={since}")
    assert (await communicator.receive_json_from(timeout=10))["type"] in ("error", "resumed")
    await _still_answers(communicator)
    await communicator.disconnect()


async def test_a_socket_that_fails_while_opening_leaves_no_sweeper_or_group_behind(
    campus: Any, warden_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr("alerts.consumers.last_event_id_for_user", broken)
    Recorded.made.clear()
    communicator = WebsocketCommunicator(Recorded.as_asgi(), "/ws/alerts/")
    communicator.scope["user"] = warden_a
    connected, _code = await communicator.connect(timeout=5)
    consumer = Recorded.made[0]
    if connected:  # accepted before the failure: it then closes
        assert (await communicator.receive_output(timeout=5))["type"] == "websocket.close"
    await communicator.wait(timeout=5)
    groups = [EVERYONE_GROUP, hostel_group(campus.hostel_a.id)]
    assert consumer.sweeper is None
    assert not await _member(consumer.channel_name, groups)
