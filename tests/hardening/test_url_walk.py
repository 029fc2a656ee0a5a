"""Every URL pattern (pages, API, exports, admin, sockets), walked as every persona.

Path parameters are filled with Hostel B's objects. Warden A (and a gateway of Hostel A) must get a
refusal or a page without any of Hostel B's identifiers, and no write may change Hostel B's data.
A URL added later is walked automatically; a parameter name nobody knows fails the walk with a
message asking for a filler in FILLERS below.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from alerts.models import Alert, AlertComment, AlertEvent
from alerts.services import alert_raise
from conftest import Campus
from meters.models import Hostel, Meter, Reading, ReadingsUpload, Room
from meters.services import gateway_token_create


@dataclass
class Targets:
    """Hostel B's objects that fill path parameters, and the strings that must never leak."""

    campus: Campus
    alert_b: Alert
    upload_b: ReadingsUpload
    secrets: tuple[str, ...]


Filler = Callable[[Targets], str]
# Parameter name -> value naming a Hostel B object. Register new parameter names here.
FILLERS: dict[str, Filler] = {
    "hostel_id": lambda t: str(t.campus.hostel_b.pk),
    "room_id": lambda t: str(t.campus.room_b.pk),
    "meter_id": lambda t: str(t.campus.meter_b.pk),
    "serial": lambda t: t.campus.meter_b.serial,
    "meter_serial": lambda t: t.campus.meter_b.serial,
    "alert_id": lambda t: str(t.alert_b.pk),
    "pk": lambda t: str(t.alert_b.pk),  # DRF routers: the only detail routes today are alerts
    "action": lambda t: "acknowledge",
    # The admin: wardens are not staff, so any object id will do.
    "app_label": lambda t: "meters",
    "object_id": lambda t: str(t.campus.hostel_b.pk),
    "content_type_id": lambda t: "1",
    "id": lambda t: "1",
    "url": lambda t: "meters/hostel/",
    "site_id": lambda t: str(t.campus.hostel_b.site_id),
    # Another manager's upload of Hostel B's readings: only its uploader and admins see its page.
    "upload_id": lambda t: str(t.upload_b.pk),  # shared with Hostel A: a warden sees their part only
    # Residents' pages and digest unsubscribe links are reached by an unguessable token, not by role (tested
    # in analytics/tests/test_insight_scope.py and test_digest.py): a walker holds none.
    "token": lambda t: "no-such-token",
}
# Extra values tried for parameters with a fixed set of meanings.
VARIANTS: dict[str, tuple[str, ...]] = {
    "action": ("acknowledge", "resolve", "snooze", "comment", "feedback", "assign", "reopen"),
}
QUERY = "?hostel={h}&hostel_id={h}&room={r}&meter={m}&serial={s}&since=0&page=1"
WRITE_BODY = {
    "name": "pwned",
    "title": "pwned",
    "body": "pwned",
    "note": "pwned",
    "true_alarm": "true",
    "until": "2999-01-01T00:00",
    "assignee": "",
    "next": "/",
}


def _paths(targets: Targets) -> Iterator[tuple[str, str]]:
    """(pattern, concrete path) for every URL pattern, filled with Hostel B's objects."""
    seen: set[str] = set()
    unknown: list[str] = []

    def walk(resolver: URLResolver, prefix: str) -> Iterator[tuple[str, str]]:
        for key in list(resolver.reverse_dict.keys()):
            for bits, _pattern, _defaults, _converters in resolver.reverse_dict.getlist(key):
                for template, params in bits:
                    pattern = prefix + template
                    if pattern in seen:
                        continue
                    seen.add(pattern)
                    missing = [name for name in params if name not in FILLERS]
                    if missing:
                        unknown.append(f"/{pattern} needs a filler for {missing}")
                        continue
                    for variant in _variants(params):
                        values = {name: variant.get(name) or FILLERS[name](targets) for name in params}
                        yield pattern, "/" + template_fill(prefix + template, values)
        for _namespace, (sub_prefix, sub_resolver) in resolver.namespace_dict.items():
            yield from walk(sub_resolver, prefix + sub_prefix)

    yield from walk(get_resolver(), "")
    assert not unknown, "register a filler in tests/hardening/test_url_walk.py FILLERS:\n" + "\n".join(unknown)


def _variants(params: list[str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = [{}]
    for name in params:
        if name in VARIANTS:
            out = [dict(base, **{name: value}) for base in out for value in VARIANTS[name]]
    return out


def template_fill(template: str, values: dict[str, str]) -> str:
    return template % values


@pytest.fixture
def targets(campus: Campus) -> Targets:
    alert_b = alert_raise(kind="manual", title="Secret-B-alert", hostel=campus.hostel_b, room=campus.room_b)
    alert_raise(kind="manual", title="Own-A-alert", hostel=campus.hostel_a, room=campus.room_a)
    campus.hostel_b.name = "Hostel Bravo-Secret"
    campus.hostel_b.save()
    from django.contrib.auth import get_user_model

    uploader = get_user_model().objects.create_user(username="uploader_b", password="uploader-b-password-1")
    upload_b = ReadingsUpload.objects.create(
        user=uploader,
        filename="readings-B-101.csv",
        staged_name="0" * 32 + ".csv",
        status=ReadingsUpload.Status.DONE,
        rows_total=1,
        result={
            "summary": {"rejected": 1},
            "rejections": [{"row": 2, "meter_serial": "RM-B-101", "reason": "negative energy"}],
        },
    )
    return Targets(
        campus=campus,
        alert_b=alert_b,
        upload_b=upload_b,
        secrets=("Hostel Bravo-Secret", "RM-B-101", "Secret-B-alert", "B-101"),
    )


def _snapshot(targets: Targets) -> dict[str, Any]:
    campus = targets.campus
    alert = Alert.objects.get(pk=targets.alert_b.pk)
    return {
        "hostel": Hostel.objects.filter(pk=campus.hostel_b.pk).values().get(),
        "room": Room.objects.filter(pk=campus.room_b.pk).values().get(),
        "meter": Meter.objects.filter(pk=campus.meter_b.pk).values().get(),
        "readings": sorted(Reading.objects.filter(meter=campus.meter_b).values_list("timestamp", "kwh")),
        "alert": (
            alert.status,
            alert.acknowledged_by_id,
            alert.assigned_to_id,
            alert.is_true_alarm,
            alert.snoozed_until,
        ),
        "events": AlertEvent.objects.filter(alert=alert).count(),
        "comments": AlertComment.objects.filter(alert=alert).count(),
    }


def _fill_query(targets: Targets) -> str:
    campus = targets.campus
    return QUERY.format(h=campus.hostel_b.pk, r=campus.room_b.pk, m=campus.meter_b.pk, s=campus.meter_b.serial)


def _leaks(response: Any, secrets: tuple[str, ...], echoed: tuple[str, ...] = ()) -> list[str]:
    if response.status_code >= 300:
        return []
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    # What the caller sent (a serial in the query or the batch) may be echoed back: not a leak.
    for value in echoed:
        text = text.replace(value, "")
    return [secret for secret in secrets if secret in text]


def _walk_as(client: Client, targets: Targets, headers: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    before = _snapshot(targets)
    query = _fill_query(targets)
    batch_b = json.dumps(
        [
            {
                "meter": targets.campus.meter_b.serial,
                "timestamp": dt.datetime(2025, 6, 1, tzinfo=dt.UTC).isoformat(),
                "kwh": 9.9,
            }
        ]
    )
    for pattern, path in _paths(targets):
        for url in (path, path + query):
            response = client.get(url, **headers)
            if response.status_code >= 500:
                problems.append(f"GET {url}: {response.status_code}")
            leaked = _leaks(response, targets.secrets, echoed=(targets.campus.meter_b.serial,))
            if leaked:
                problems.append(f"GET {url} ({pattern}) shows {leaked}")
        for method in ("post", "put", "patch", "delete"):
            send = getattr(client, method)
            if pattern.endswith("readings/batch"):
                response = send(path, batch_b, content_type="application/json", **headers)
            elif method == "post":
                response = send(path, WRITE_BODY, **headers)
            else:
                response = send(path, json.dumps(WRITE_BODY), content_type="application/json", **headers)
            if response.status_code >= 500:
                problems.append(f"{method.upper()} {path}: {response.status_code}")
            leaked = _leaks(response, targets.secrets, echoed=(targets.campus.meter_b.serial,))
            if leaked:
                problems.append(f"{method.upper()} {path} ({pattern}) shows {leaked}")
    after = _snapshot(targets)
    changed = [key for key in before if before[key] != after[key]]
    if changed:
        problems.append(f"Hostel B data changed: {changed}")
    return problems


def test_warden_a_cannot_read_or_change_hostel_b_through_any_url(targets: Targets, warden_a: Any) -> None:
    client = Client()
    client.force_login(warden_a)
    assert not (problems := _walk_as(client, targets, {})), "\n".join(problems)


def test_anonymous_visitor_cannot_read_or_change_hostel_b_through_any_url(targets: Targets) -> None:
    assert not (problems := _walk_as(Client(), targets, {})), "\n".join(problems)


def test_gateway_of_hostel_a_cannot_read_or_change_hostel_b_through_any_url(targets: Targets) -> None:
    _, key = gateway_token_create(name="gw-a", meter_ids=[targets.campus.meter_a.id])
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Gateway {key}"}
    assert not (problems := _walk_as(Client(), targets, headers)), "\n".join(problems)


@pytest.mark.parametrize("persona", ["admin", "manager"])
def test_admin_and_manager_get_no_server_error_on_any_url(targets: Targets, persona: str, request: Any) -> None:
    user = request.getfixturevalue(persona)
    client = Client()
    client.force_login(user)
    errors = []
    for _pattern, path in _paths(targets):
        response = client.get(path)
        if response.status_code >= 500:
            errors.append(f"GET {path}: {response.status_code}")
    assert not errors, "\n".join(errors)


def test_the_walk_covers_every_app_and_fails_on_unknown_parameters(targets: Targets) -> None:
    paths = {path for _, path in _paths(targets)}
    for expected in ("/alerts/", "/api/v1/readings/batch", "/dashboard/hostels.csv", "/meters/upload/", "/admin/"):
        assert expected in paths
    assert f"/hostels/{targets.campus.hostel_b.pk}/" in paths
    FILLERS_BACKUP = FILLERS.pop("alert_id")
    try:
        with pytest.raises(AssertionError, match=re.escape("register a filler")):
            list(_paths(targets))
    finally:
        FILLERS["alert_id"] = FILLERS_BACKUP


def test_the_walk_does_find_hostel_b_when_walked_as_a_manager(targets: Targets, manager: Any) -> None:
    client = Client()
    client.force_login(manager)
    problems = _walk_as(client, targets, {})
    assert any(f"/hostels/{targets.campus.hostel_b.pk}/" in problem for problem in problems)
    assert any("Hostel B data changed" in problem for problem in problems), "a manager may change Hostel B"


@pytest.mark.django_db(transaction=True)
async def test_warden_a_sockets_never_carry_hostel_b_alerts_live_or_on_resume(campus: Campus, warden_a: Any) -> None:
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.db import connections

    from config.routing import websocket_urlpatterns

    raise_alert = sync_to_async(alert_raise)
    await raise_alert(kind="manual", title="Secret-B-before", hostel=campus.hostel_b)
    try:
        for route in websocket_urlpatterns:
            path = "/" + str(route.pattern)
            assert "<" not in path, f"{path}: register a filler for socket parameters"
            communicator = WebsocketCommunicator(route.callback, path)
            communicator.scope["user"] = warden_a
            connected, _ = await communicator.connect()
            assert connected, path
            await communicator.send_json_to({"type": "resume", "since": 0})
            await raise_alert(kind="manual", title="Secret-B-live", hostel=campus.hostel_b)
            await raise_alert(kind="manual", title="Own-A-live", hostel=campus.hostel_a)
            received: list[str] = []
            while not await communicator.receive_nothing(timeout=1):
                received.append(json.dumps(await communicator.receive_json_from(timeout=1)))
            await communicator.disconnect()
            text = "\n".join(received)
            assert "Own-A-live" in text, f"{path}: the walk saw warden A's own alert (it is live)"
            assert "Secret-B" not in text, f"{path} carried Hostel B's alert to warden A"
    finally:
        await sync_to_async(connections.close_all)()
