"""The live alert stream at ws/alerts/: authenticated by session, filtered by the user's scope."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from alerts.realtime import EVERYONE_GROUP, MANAGERS_GROUP, hostel_group
from customers.roles import Role, Scope, scope_for


class AlertStreamConsumer(AsyncJsonWebsocketConsumer):
    """Pushes alert events and system heartbeats to one signed-in user's browser."""

    scope_of_user: Scope
    groups_joined: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.scope_of_user = await database_sync_to_async(scope_for)(user)
        if self.scope_of_user.role is Role.NONE:
            await self.close(code=4403)
            return
        self.groups_joined = [EVERYONE_GROUP]
        if self.scope_of_user.everything:
            self.groups_joined.append(MANAGERS_GROUP)
        else:
            self.groups_joined.extend(hostel_group(hostel_id) for hostel_id in sorted(self.scope_of_user.hostel_ids))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "role": self.scope_of_user.role.value})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def live_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if self.may_see(event):
            await self.send_json(event)

    def may_see(self, event: dict[str, Any]) -> bool:
        """Checked on every event, whatever group it came through."""
        if event.get("type") == "system.heartbeat" or self.scope_of_user.everything:
            return True
        hostel_id = event.get("hostel_id")
        return isinstance(hostel_id, int) and hostel_id in self.scope_of_user.hostel_ids
