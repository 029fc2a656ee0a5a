"""Personas shared by every app's tests: admin, manager, warden_a (Hostel A), warden_b (Hostel B)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from core.roles import MANAGER_GROUP, WARDEN_GROUP
from meters.models import Hostel, Meter, Room
from meters.tests.factories import HostelFactory, MeterFactory, ReadingFactory, RoomFactory

PASSWORD = "persona-password-123"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked postgres/redis run only when the real service is configured."""
    database_url = os.environ.get("DATABASE_URL", "")
    skip_pg = pytest.mark.skip(reason="needs DATABASE_URL pointing at PostgreSQL")
    skip_redis = pytest.mark.skip(reason="needs REDIS_URL")
    for item in items:
        if "postgres" in item.keywords and not database_url.startswith(("postgres://", "postgresql://")):
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True, scope="session")
def _celery_tasks_registered() -> None:
    """Register every app's tasks, as a worker does at start: services queue tasks by name
    (celery.signature), and an eager test runs a named task only if it is registered."""
    from config.celery import app

    app.loader.import_default_modules()


@pytest.fixture(autouse=True)
def _celery_join_flag() -> Any:
    """Celery marks "inside a task: result.get() would block" in one process-wide flag that each eager
    task saves, sets and restores. Two threads running eager tasks at once (the beat-twice test) can
    leave it set, and every later test that calls .get() on a result then fails. Put it back."""
    from celery import _state

    yield
    _state._set_task_join_will_block(False)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Cached figures must not leak from one test's data to the next (SQLite reuses ids after a rollback).

    The Redis cache shares its database with the broker and the channel layer: only our keys go.
    """
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    cache = caches["default"]
    if isinstance(cache, LocMemCache):
        cache.clear()
        return
    from django_redis import get_redis_connection

    client = get_redis_connection("default")
    for key in client.scan_iter("*analytics:*"):
        client.delete(key)


@dataclass
class Campus:
    hostel_a: Hostel
    hostel_b: Hostel
    room_a: Room
    room_b: Room
    meter_a: Meter
    meter_b: Meter


@pytest.fixture
def campus(db: None) -> Campus:
    hostel_a = HostelFactory.create(code="A", name="Hostel A")
    hostel_b = HostelFactory.create(code="B", name="Hostel B")
    room_a = RoomFactory.create(hostel=hostel_a, number="A-101", bed_type=4, capacity=4)
    room_b = RoomFactory.create(hostel=hostel_b, number="B-101", bed_type=2, capacity=2)
    meter_a = MeterFactory.create(serial="RM-A-101", room=room_a)
    meter_b = MeterFactory.create(serial="RM-B-101", room=room_b)
    ReadingFactory.create(meter=meter_a, kwh=0.31)
    ReadingFactory.create(meter=meter_b, kwh=0.27)
    return Campus(hostel_a, hostel_b, room_a, room_b, meter_a, meter_b)


def _user(username: str, *, group: str | None = None, staff: bool = False) -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if staff:
        user.is_staff = user.is_superuser = True
        user.save()
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def admin(campus: Campus) -> Any:
    return _user("admin", staff=True)


@pytest.fixture
def manager(campus: Campus) -> Any:
    return _user("manager", group=MANAGER_GROUP)


@pytest.fixture
def warden_a(campus: Campus) -> Any:
    user = _user("warden_a", group=WARDEN_GROUP)
    campus.hostel_a.wardens.add(user)
    return user


@pytest.fixture
def warden_b(campus: Campus) -> Any:
    user = _user("warden_b", group=WARDEN_GROUP)
    campus.hostel_b.wardens.add(user)
    return user


@pytest.fixture
def nobody(campus: Campus) -> Any:
    """A signed-in user with no role."""
    return _user("nobody")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_fast_list_is_the_serializers(client: Any, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The list at `path`, rendered from values() rows, says exactly what its serializer would."""
    from core.api import fastlist

    fast = client.get(path)
    with monkeypatch.context() as patch:
        patch.setattr(fastlist, "list_plan", lambda serializer_class: None)
        slow = client.get(path)
    assert fast.status_code == slow.status_code == 200
    assert fast.json() == slow.json()
    assert fast.json()["results"], path
