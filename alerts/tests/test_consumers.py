"""ws/alerts/: authenticated by session, every event filtered by the user's scope."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from alerts.consumers import AlertStreamConsumer
from alerts.realtime import AlertEvent, send_now

pytestmark = [pytest.mark.django_db(transaction=True)]


def alert_for(hostel_id: int, title: str) -> AlertEvent:
    return {
        "type": "alert.raised",
        "id": 1,
        "hostel_id": hostel_id,
        "title": title,
        "severity": "high",
        "status": "open",
        "at": "2025-01-01T00:00:00+00:00",
    }


async def connect(user: Any) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(AlertStreamConsumer.as_asgi(), "/ws/alerts/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    return communicator, connected


async def test_unauthenticated_socket_is_refused() -> None:
    _, connected = await connect(AnonymousUser())
    assert not connected


async def test_user_without_role_is_refused(nobody: Any) -> None:
    _, connected = await connect(nobody)
    assert not connected


async def test_warden_socket_never_receives_another_hostels_alert(campus: Any, warden_a: Any, manager: Any) -> None:
    warden_socket, ok_warden = await connect(warden_a)
    manager_socket, ok_manager = await connect(manager)
    assert ok_warden
    assert ok_manager
    assert (await warden_socket.receive_json_from())["type"] == "hello"
    assert (await manager_socket.receive_json_from())["type"] == "hello"

    await sync_to_async(send_now)(alert_for(campus.hostel_b.id, "AC on in empty room B-101"))
    await sync_to_async(send_now)(alert_for(campus.hostel_a.id, "Heater left on in A-101"))

    warden_got = await warden_socket.receive_json_from(timeout=5)
    assert warden_got["title"] == "Heater left on in A-101"
    assert await warden_socket.receive_nothing(timeout=0.3)
    manager_titles = {(await manager_socket.receive_json_from(timeout=5))["title"] for _ in range(2)}
    assert manager_titles == {"AC on in empty room B-101", "Heater left on in A-101"}
    await warden_socket.disconnect()
    await manager_socket.disconnect()


async def test_consumer_drops_an_event_of_another_hostel_even_if_it_arrives_on_its_channel(
    campus: Any, warden_a: Any
) -> None:
    socket, connected = await connect(warden_a)
    assert connected
    await socket.receive_json_from()
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    # Deliver straight to the hostel A group a payload that claims hostel B: must be filtered.
    from alerts.realtime import hostel_group

    await layer.group_send(
        hostel_group(campus.hostel_a.id), {"type": "live.event", "event": dict(alert_for(campus.hostel_b.id, "leak"))}
    )
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_heartbeat_reaches_every_role(campus: Any, warden_b: Any) -> None:
    socket, connected = await connect(warden_b)
    assert connected
    await socket.receive_json_from()
    await sync_to_async(send_now)({"type": "system.heartbeat", "at": "now", "worker": "w1"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "system.heartbeat"
    await socket.disconnect()
