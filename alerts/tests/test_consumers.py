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


@pytest.fixture(autouse=True)
async def close_thread_connections() -> Any:
    """Sync code of these tests runs in asgiref's worker thread; close its connection so teardown can drop the DB."""
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


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


# --- events from real alerts, and catch-up after a reconnect ------------------------------------


def raise_sync(meter: Any, title: str) -> Any:
    from alerts.services import alert_raise

    return alert_raise(kind="anomaly", title=title, meter=meter, score=0.9, dedupe_key=title)


async def drain(socket: WebsocketCommunicator) -> list[dict[str, Any]]:
    got = []
    while not await socket.receive_nothing(timeout=0.2):
        got.append(await socket.receive_json_from())
    return got


async def test_a_raised_alert_reaches_the_wardens_of_its_hostel_only_with_its_event_id(
    campus: Any, warden_a: Any, warden_b: Any
) -> None:
    socket_a, _ = await connect(warden_a)
    socket_b, _ = await connect(warden_b)
    await socket_a.receive_json_from()
    await socket_b.receive_json_from()
    alert = await sync_to_async(raise_sync)(campus.meter_a, "Heater on in A-101")
    event = await socket_a.receive_json_from(timeout=5)
    assert event["type"] == "alert.raised"
    assert event["id"] == alert.pk
    assert isinstance(event["event_id"], int)
    assert (event["previous_status"], event["status"]) == (None, "open")
    assert await socket_b.receive_nothing(timeout=0.3)
    await socket_a.disconnect()
    await socket_b.disconnect()


async def test_catch_up_after_reconnect_sends_only_missed_and_visible_events(
    campus: Any, warden_a: Any, manager: Any
) -> None:
    from alerts.services import alert_acknowledge

    socket, _ = await connect(warden_a)
    hello = await socket.receive_json_from()
    assert hello["last_event_id"] is None
    seen = await sync_to_async(raise_sync)(campus.meter_a, "seen before the drop")
    last_seen_id = (await socket.receive_json_from(timeout=5))["event_id"]
    await socket.disconnect()

    # While disconnected: one event in hostel A (acknowledgement), one raise in A, one in B.
    await sync_to_async(alert_acknowledge)(alert=seen, user=manager)
    missed = await sync_to_async(raise_sync)(campus.meter_a, "missed in A")
    await sync_to_async(raise_sync)(campus.meter_b, "not for this warden")

    socket, _ = await connect(warden_a)
    await socket.receive_json_from()
    await socket.send_json_to({"type": "resume", "since": last_seen_id})
    replay = await drain(socket)
    assert [(e["type"], e["id"]) for e in replay[:-1]] == [
        ("alert.acknowledged", seen.pk),
        ("alert.raised", missed.pk),
    ]
    # Done, all of it, and the badge's count as of now: "missed in A" is open, "seen" acknowledged.
    assert replay[-1] == {"type": "resumed", "count": 2, "complete": True, "open_alerts": 1}
    await socket.disconnect()


async def test_a_socket_dropped_before_its_first_event_resumes_from_zero_and_misses_nothing(
    campus: Any, warden_a: Any
) -> None:
    """No event yet: hello's cursor is null, and live.js (as the badge cursor) resumes from 0, which
    replays what was raised while it was away (resuming from the next hello's cursor would not)."""
    socket, _ = await connect(warden_a)
    assert (await socket.receive_json_from())["last_event_id"] is None
    await socket.disconnect()
    await sync_to_async(raise_sync)(campus.meter_a, "raised while away")
    socket, _ = await connect(warden_a)
    assert isinstance((await socket.receive_json_from())["last_event_id"], int)  # past the missed event
    await socket.send_json_to({"type": "resume", "since": 0})
    replay = await drain(socket)
    assert [e.get("title") for e in replay[:-1]] == ["raised while away"]
    assert replay[-1]["count"] == 1
    await socket.disconnect()


async def test_catch_up_by_time_in_the_query_string(campus: Any, manager: Any) -> None:
    from urllib.parse import quote

    from django.utils import timezone

    since = quote(timezone.now().isoformat())
    await sync_to_async(raise_sync)(campus.meter_b, "after the cursor")
    communicator = WebsocketCommunicator(AlertStreamConsumer.as_asgi(), f"/ws/alerts/?since={since}")
    communicator.scope["user"] = manager
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["type"] == "hello"
    assert (await communicator.receive_json_from())["title"] == "after the cursor"
    assert (await communicator.receive_json_from())["type"] == "resumed"
    await communicator.disconnect()


async def test_a_suppressed_alert_is_neither_pushed_nor_replayed(campus: Any, manager: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from alerts.models import SuppressionWindow

    now = timezone.now()
    await sync_to_async(SuppressionWindow.objects.create)(
        hostel=campus.hostel_a, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1)
    )
    socket, _ = await connect(manager)
    await socket.receive_json_from()
    await sync_to_async(raise_sync)(campus.meter_a, "during maintenance")
    assert await socket.receive_nothing(timeout=0.3)
    await socket.send_json_to({"type": "resume", "since": 0})
    assert await socket.receive_json_from(timeout=5) == {
        "type": "resumed",
        "count": 0,
        "complete": True,
        "open_alerts": 0,
    }
    await socket.disconnect()


async def test_resume_without_a_cursor_is_answered_with_an_error(campus: Any, manager: Any) -> None:
    socket, _ = await connect(manager)
    await socket.receive_json_from()
    await socket.send_json_to({"type": "resume", "since": "yesterday"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "error"
    await socket.disconnect()


def written_before(event_id: int, seconds: float) -> None:
    """Date an event's row back, as if it had been written that long ago."""
    import datetime as dt

    from django.utils import timezone

    from alerts.models import AlertEvent as EventRow

    EventRow.objects.filter(pk=event_id).update(recorded_at=timezone.now() - dt.timedelta(seconds=seconds))


async def test_resume_replays_an_earlier_numbered_event_that_committed_after_the_cursor(
    campus: Any, manager: Any, settings: Any
) -> None:
    """Ids are taken at insert, not at commit: a slow transaction's event can land after a later id.

    The socket saw event `later` and dropped; the event numbered before it (written seconds
    before, committed after) must still come on resume, and one written long before must not.
    """
    settings.ALERT_REPLAY_OVERLAP_SECONDS = 60
    long_ago = await sync_to_async(raise_sync)(campus.meter_a, "long before the cursor")
    slow = await sync_to_async(raise_sync)(campus.meter_a, "slow transaction")
    later = await sync_to_async(raise_sync)(campus.meter_b, "committed first")
    ids = await sync_to_async(lambda: [a.events.get().pk for a in (long_ago, slow, later)])()
    assert ids == sorted(ids)
    await sync_to_async(written_before)(ids[0], 600)
    await sync_to_async(written_before)(ids[1], 5)

    socket, _ = await connect(manager)
    await socket.receive_json_from()
    await socket.send_json_to({"type": "resume", "since": ids[2]})
    replay = await drain(socket)
    assert [e.get("event_id") for e in replay[:-1]] == [ids[1]]
    assert replay[-1]["count"] == 1
    await socket.disconnect()


async def test_a_long_absence_is_replayed_whole_page_after_page_or_the_page_is_told_to_reload(
    campus: Any, manager: Any, monkeypatch: Any
) -> None:
    from alerts import consumers, selectors

    first = await sync_to_async(raise_sync)(campus.meter_a, "the cursor")
    cursor = await sync_to_async(lambda: first.events.get().pk)()
    titles = [f"missed {n}" for n in range(7)]
    for title in titles:
        await sync_to_async(raise_sync)(campus.meter_a, title)
    monkeypatch.setattr(consumers, "CATCH_UP_LIMIT", 3)  # 7 events: pages of 3, 3 and 1

    socket, _ = await connect(manager)
    await socket.receive_json_from()
    await socket.send_json_to({"type": "resume", "since": cursor})
    replay = await drain(socket)
    assert [e["title"] for e in replay[:-1]] == titles  # oldest first, none dropped, none twice
    assert replay[-1] == {"type": "resumed", "count": 7, "complete": True, "open_alerts": 8}

    monkeypatch.setattr(consumers, "CATCH_UP_MAX", 6)
    await socket.send_json_to({"type": "resume", "since": cursor})
    replay = await drain(socket)
    assert [e["title"] for e in replay[:-1]] == titles[:6]
    assert replay[-1]["complete"] is False  # live.js reloads the page
    assert selectors.CATCH_UP_LIMIT == 200
    await socket.disconnect()


@pytest.mark.postgres
async def test_an_event_committed_after_a_higher_numbered_one_reaches_a_socket_that_dropped_between(
    campus: Any, manager: Any
) -> None:
    """The race itself, with two real PostgreSQL transactions: one raises, holds its transaction
    open while another raises and commits; the socket sees the second, drops, and the first
    commits while it is away. Resuming from the id it saw, it still gets the first."""
    import asyncio
    import threading

    from django.db import connection, transaction

    inserted, release = threading.Event(), threading.Event()

    def slow_transaction() -> None:
        try:
            with transaction.atomic():
                raise_sync(campus.meter_a, "slow transaction")
                inserted.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    socket, _ = await connect(manager)
    await socket.receive_json_from()
    slow = threading.Thread(target=slow_transaction)
    slow.start()
    assert await asyncio.to_thread(inserted.wait, 30)
    await sync_to_async(raise_sync)(campus.meter_b, "quick transaction")
    quick = await socket.receive_json_from(timeout=5)
    assert quick["title"] == "quick transaction"
    await socket.disconnect()

    release.set()
    await asyncio.to_thread(slow.join, 30)
    socket, _ = await connect(manager)
    await socket.receive_json_from()
    await socket.send_json_to({"type": "resume", "since": quick["event_id"]})
    replay = await drain(socket)
    assert [e["title"] for e in replay[:-1]] == ["slow transaction"]
    assert replay[-1]["type"] == "resumed"
    assert replay[0]["event_id"] < quick["event_id"]  # numbered before, committed after
    await socket.disconnect()


async def test_a_push_the_channel_layer_dropped_arrives_by_the_sweep_and_only_once(
    campus: Any, manager: Any, settings: Any, monkeypatch: Any
) -> None:
    """A message can be lost on the way (Redis down, expired while the web process was starved):
    the socket's periodic sweep of the database delivers it, once; what came live is not resent,
    and nothing the page had at connect (at or below the hello's cursor) is sent at all."""
    from alerts import realtime

    settings.ALERT_SOCKET_SWEEP_SECONDS = 1
    await sync_to_async(raise_sync)(campus.meter_a, "before the socket")
    socket, _ = await connect(manager)
    hello = await socket.receive_json_from()
    assert isinstance(hello["last_event_id"], int)

    await sync_to_async(raise_sync)(campus.meter_a, "pushed live")
    live = await socket.receive_json_from(timeout=5)
    assert live["title"] == "pushed live"

    monkeypatch.setattr(realtime, "send_now", lambda event: None)  # the push is lost
    await sync_to_async(raise_sync)(campus.meter_b, "push lost")
    swept = await socket.receive_json_from(timeout=5)
    assert swept["title"] == "push lost"
    assert swept["event_id"] > live["event_id"]
    assert await socket.receive_nothing(timeout=2.5)  # two more sweeps: nothing twice, nothing old
    await socket.disconnect()


async def test_the_sweep_shows_a_warden_nothing_of_another_hostel(
    campus: Any, warden_a: Any, settings: Any, monkeypatch: Any
) -> None:
    from alerts import realtime

    settings.ALERT_SOCKET_SWEEP_SECONDS = 1
    socket, _ = await connect(warden_a)
    await socket.receive_json_from()
    monkeypatch.setattr(realtime, "send_now", lambda event: None)
    await sync_to_async(raise_sync)(campus.meter_b, "hostel B, push lost")
    await sync_to_async(raise_sync)(campus.meter_a, "hostel A, push lost")
    assert (await socket.receive_json_from(timeout=5))["title"] == "hostel A, push lost"
    assert await socket.receive_nothing(timeout=2.5)
    await socket.disconnect()


def test_a_sweep_reads_ids_first_and_only_the_rows_it_lacks_in_scope(campus: Any, manager: Any, warden_a: Any) -> None:
    """The sweep's two reads: the page's ids (the same page as a resume's) and the events by id,
    which for a warden never include another hostel's, whatever ids are asked for."""
    from alerts.models import AlertEvent as EventRow
    from alerts.selectors import alert_event_ids_since, alert_events_by_id, alert_events_since

    first = raise_sync(campus.meter_a, "a1")
    raise_sync(campus.meter_b, "b1")
    raise_sync(campus.meter_a, "a2")
    floor = EventRow.objects.filter(alert=first).order_by("id").first()
    assert floor is not None
    since = floor.pk - 1
    for user in (manager, warden_a):
        whole = alert_events_since(user=user, since_id=since)
        ids = alert_event_ids_since(user=user, since_id=since)
        assert ids == [event["event_id"] for event in whole]
        assert [event["title"] for event in alert_events_by_id(user=user, ids=ids[1:])] == [
            event["title"] for event in whole[1:]
        ]
    every = alert_event_ids_since(user=manager, since_id=since)
    assert len(every) == 3
    assert {event["title"] for event in alert_events_by_id(user=warden_a, ids=every)} == {"a1", "a2"}
    assert alert_events_by_id(user=warden_a, ids=[]) == []


async def test_a_live_push_goes_without_a_trip_through_the_sync_thread(
    campus: Any, manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import channels.consumer

    socket, connected = await connect(manager)
    assert connected
    await socket.receive_json_from()
    trips: list[int] = []
    original = channels.consumer.aclose_old_connections

    async def counted() -> None:
        trips.append(1)
        await original()

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    await sync_to_async(send_now)(alert_for(campus.hostel_a.id, "Heater left on in A-101"))
    assert (await socket.receive_json_from(timeout=5))["title"] == "Heater left on in A-101"
    assert trips == []
    await socket.send_json_to({"type": "ping"})  # a message from the browser still goes the usual way
    assert (await socket.receive_json_from(timeout=5))["type"] == "pong"
    assert trips == [1]
    await socket.disconnect()
