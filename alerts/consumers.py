"""The live alert stream at ws/alerts/: authenticated by session, filtered by the user's scope."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from alerts.metrics import OPEN_SOCKETS
from alerts.realtime import EVERYONE_GROUP, MANAGERS_GROUP, hostel_group
from alerts.selectors import (
    CATCH_UP_LIMIT,
    CATCH_UP_MAX,
    alert_event_ids_since,
    alert_events_by_id,
    alert_events_since,
    alerts_open_count,
    last_event_id_for_user,
    parse_since,
)
from core.roles import Role
from meters.scoping import Scope, scope_for

SENT_REMEMBERED = 5000  # event ids a socket remembers sending, so none goes twice
MAX_MESSAGE_CHARS = 4096  # a client sends pings and resumes; nothing longer is needed
logger = logging.getLogger(__name__)


class AlertStreamConsumer(AsyncJsonWebsocketConsumer):
    """Pushes alert events and system heartbeats to one signed-in user's browser.

    Live events come through the channel layer, which can drop them (Redis down, a message
    expired while the process was starved): every ALERT_SOCKET_SWEEP_SECONDS the socket also
    asks the database for what it should have been sent since it connected, and sends what it
    has not (the sweep), so a dropped push arrives late instead of never.
    """

    scope_of_user: Scope
    groups_joined: list[str]
    baseline: int  # the hello's cursor: the page had everything up to it
    swept: int  # the highest event id a sweep has looked at
    sent_ids: set[int]
    sent_order: deque[int]
    sweeper: asyncio.Task[None] | None = None
    counted = False  # in the open-sockets gauge

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Whatever ends the socket (a close, a crash, a server shutting down), the sweeper stops and
        # the groups are left: Channels runs disconnect() only for a disconnect message.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.clean_up()

    async def connect(self) -> None:
        try:
            await self.open()
        except Exception:
            logger.exception("alert socket failed to open")
            await self.clean_up()
            await self.close(code=1011)

    async def open(self) -> None:
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
        self.counted = True
        OPEN_SOCKETS.inc()
        last = await database_sync_to_async(last_event_id_for_user)(user=user)
        self.baseline, self.swept, self.sent_ids, self.sent_order = last or 0, last or 0, set(), deque()
        await self.send_json({"type": "hello", "role": self.scope_of_user.role.value, "last_event_id": last})
        if settings.ALERT_SOCKET_SWEEP_SECONDS > 0:
            self.sweeper = asyncio.create_task(self.sweep_forever())
        query = parse_qs(self.scope.get("query_string", b"").decode())
        if query.get("since"):
            await self.catch_up(query["since"][0])

    async def disconnect(self, code: int) -> None:
        await self.clean_up()

    async def clean_up(self) -> None:
        """Stop the sweeper and leave the groups; safe to run more than once."""
        if self.counted:
            self.counted = False
            OPEN_SOCKETS.dec()
        sweeper, self.sweeper = self.sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        groups, self.groups_joined = getattr(self, "groups_joined", []), []
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """A client message: garbage gets an error message and the socket stays open."""
        if text_data is None:
            await self.send_json({"type": "error", "detail": "send JSON text messages, not binary frames"})
            return
        if len(text_data) > MAX_MESSAGE_CHARS:
            await self.send_json({"type": "error", "detail": f"messages are at most {MAX_MESSAGE_CHARS} characters"})
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, RecursionError):  # malformed, or nested deeper than the parser goes
            await self.send_json({"type": "error", "detail": 'expected a JSON object such as {"type": "ping"}'})
            return
        try:
            await self.receive_json(content)
        except Exception:
            logger.exception("alert socket message failed")
            await self.send_json({"type": "error", "detail": "that message could not be handled"})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "detail": "expected a JSON object with a type"})
            return
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        elif content.get("type") == "resume":
            await self.catch_up(content.get("since"))
        else:
            await self.send_json({"type": "error", "detail": "type must be ping or resume"})

    async def catch_up(self, since: Any) -> None:
        """Replay, oldest first, the events this user may see after an event id or an ISO time.

        Page by page, then `resumed` with how many were sent, whether that was all (past
        CATCH_UP_MAX the page should reload instead) and the open-alert count as of now.
        """
        since_id, since_at = parse_since(since)
        if since_id is None and since_at is None:
            await self.send_json({"type": "error", "detail": "resume needs since: an event id or an ISO time"})
            return
        sent, complete = await self.replay(always=True, since_id=since_id, since_at=since_at)
        open_alerts = await database_sync_to_async(alerts_open_count)(user=self.scope["user"])
        await self.send_json({"type": "resumed", "count": sent, "complete": complete, "open_alerts": open_alerts})

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Live pushes straight to their handler; everything else as Channels dispatches it.

        Channels recycles stale database connections before every message, a trip through the
        sync thread each time: one per socket per alert (200 sockets, 200 trips), queued with the
        process's HTTP requests. A live push reads no database, so it needs none.
        """
        if message.get("type") == "live.event":
            await self.live_event(message)
            return
        await super().dispatch(message)

    async def live_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if self.may_see(event):
            await self.send_event(event)

    async def send_event(self, event: Any, *, always: bool = False) -> None:
        """Send an event unless it went already (a resume asked for: `always`); remember it went."""
        event_id = event.get("event_id")
        if isinstance(event_id, int):
            if event_id in self.sent_ids and not always:
                return
            if event_id not in self.sent_ids:
                self.sent_ids.add(event_id)
                self.sent_order.append(event_id)
                if len(self.sent_order) > SENT_REMEMBERED:
                    self.sent_ids.discard(self.sent_order.popleft())
        await self.send_json(event)

    async def sweep_forever(self) -> None:
        period = float(settings.ALERT_SOCKET_SWEEP_SECONDS)
        await asyncio.sleep(period * random.uniform(0.5, 1.0))
        while True:
            await self.sweep()
            await asyncio.sleep(period)

    async def sweep(self) -> None:
        """Send the events after the hello's cursor that this socket should have had and has not.

        From the highest id the last sweep saw (with the usual overlap for late commits), so an
        event dropped on the way is found however many later ones came through.
        """
        await self.replay(always=False, since_id=self.swept, floor_id=self.baseline)

    async def replay(self, *, always: bool, **query: Any) -> tuple[int, bool]:
        """Send what `alert_events_since(**query)` finds, page by page, oldest first: (how many,
        whether that was all of it before CATCH_UP_MAX).

        A resume (`always`) reads whole pages. A sweep reads the page's ids first and then only the
        events this socket has not sent: nearly all of them went out live, and the overlap brings
        back every event of the last minutes at each sweep.
        """
        user = self.scope["user"]
        sent, seen, after = 0, 0, None
        while seen < CATCH_UP_MAX:
            if always:
                page = await database_sync_to_async(alert_events_since)(
                    user=user, after_id=after, limit=CATCH_UP_LIMIT, **query
                )
                ids = [event["event_id"] for event in page]
            else:
                ids = await database_sync_to_async(alert_event_ids_since)(
                    user=user, after_id=after, limit=CATCH_UP_LIMIT, **query
                )
                missing = [event_id for event_id in ids if event_id not in self.sent_ids]
                page = await database_sync_to_async(alert_events_by_id)(user=user, ids=missing) if missing else []
            for event in page:
                if self.may_see(dict(event)):
                    await self.send_event(event, always=always)
                    sent += 1
            if ids:
                self.swept = max(self.swept, ids[-1])
            seen += len(ids)
            if len(ids) < CATCH_UP_LIMIT:
                return sent, True
            after = ids[-1]
        return sent, False

    def may_see(self, event: dict[str, Any]) -> bool:
        """Checked on every event, whatever group it came through."""
        if event.get("type") == "system.heartbeat" or self.scope_of_user.everything:
            return True
        hostel_id = event.get("hostel_id")
        return isinstance(hostel_id, int) and hostel_id in self.scope_of_user.hostel_ids
