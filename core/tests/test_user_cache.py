"""Signed-in users come from the shared cache, and every change to their access is seen at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from conftest import client_for
from core.roles import MANAGER_GROUP, Role, role_of
from core.user_cache import user_cached

PATH = "/api/v1/hostels"  # managers may read it, a user without a role may not


def _user_queries(client: Client, headers: dict[str, str] | None = None) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(PATH, headers=headers or {}).status_code
    return status, [q["sql"] for q in queries.captured_queries if '"auth_user' in q["sql"] or '"auth_group' in q["sql"]]


@pytest.mark.django_db
def test_once_cached_a_signed_in_request_reads_no_user_or_group_rows(manager: Any, settings: Any) -> None:
    client = client_for(manager)
    assert client.get(PATH).status_code == 200  # the first request reads and caches the user
    status, queries = _user_queries(client)
    assert status == 200
    assert queries == []
    settings.USER_CACHE_SECONDS = 0
    status, queries = _user_queries(client)
    assert status == 200
    assert len(queries) == 2  # without the cache: the user, then their groups


def _remove_by_user(user: Any) -> None:
    user.groups.remove(Group.objects.get(name=MANAGER_GROUP))


def _remove_by_group(user: Any) -> None:
    Group.objects.get(name=MANAGER_GROUP).user_set.remove(user)


def _clear_group(user: Any) -> None:
    Group.objects.get(name=MANAGER_GROUP).user_set.clear()


def _delete_group(user: Any) -> None:
    Group.objects.get(name=MANAGER_GROUP).delete()


def _rename_group(user: Any) -> None:
    group = Group.objects.get(name=MANAGER_GROUP)
    group.name = "Former facility managers"
    group.save()


def _deactivate(user: Any) -> None:
    user.is_active = False
    user.save()


def _new_password(user: Any) -> None:
    user.set_password("a-new-password-nobody-has-used-9")
    user.save()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "status"),
    [
        (_remove_by_user, 403),
        (_remove_by_group, 403),
        (_clear_group, 403),
        (_delete_group, 403),
        (_rename_group, 403),
        (_deactivate, 401),
        (_new_password, 401),  # the session's password hash no longer matches: signed out
    ],
    ids=[
        "user.groups.remove",
        "group.user_set.remove",
        "group.user_set.clear",
        "group deleted",
        "group renamed",
        "deactivated",
        "password changed",
    ],
)
def test_a_change_to_a_users_access_holds_from_the_next_request(
    manager: Any, change: Callable[[Any], None], status: int
) -> None:
    client = client_for(manager)
    assert client.get(PATH).status_code == 200
    assert client.get(PATH).status_code == 200  # served from the cache
    change(manager)
    assert client.get(PATH).status_code == status


@pytest.mark.django_db
def test_bearer_tokens_read_their_user_through_the_cache_too(manager: Any) -> None:
    from rest_framework_simplejwt.tokens import AccessToken

    headers = {"Authorization": f"Bearer {AccessToken.for_user(manager)}"}
    client = Client()
    assert client.get(PATH, headers=headers).status_code == 200
    status, queries = _user_queries(client, headers)
    assert status == 200
    assert queries == []
    _remove_by_user(manager)
    assert client.get(PATH, headers=headers).status_code == 403
    _deactivate(manager)
    assert client.get(PATH, headers=headers).status_code == 401


@pytest.mark.django_db
def test_with_the_cache_down_users_are_read_from_the_database(manager: Any) -> None:
    unreachable = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    with override_settings(CACHES=unreachable):
        user = user_cached(manager.pk)
        assert user is not None
        assert user.pk == manager.pk
        assert role_of(user) is Role.MANAGER
        _remove_by_user(manager)  # forgetting fails too, and the change is still saved
        assert role_of(user_cached(manager.pk)) is Role.NONE
    assert user_cached(10**9) is None


@pytest.mark.django_db
def test_a_reader_that_filled_the_cache_before_the_commit_cannot_keep_the_old_access(
    manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.cache import cache
    from django.db import transaction

    from core.user_cache import GENERATION, KEY

    stale = user_cached(manager.pk)  # the manager, as another request read them before the change
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _remove_by_user(manager)
        # That request fills the cache while the change is not yet committed (it read the old row).
        generation = int(cache.get(GENERATION.format(manager.pk)) or 0)
        cache.set(KEY.format(manager.pk), (generation, stale))
        assert role_of(user_cached(manager.pk)) is Role.MANAGER  # served from the cache until the commit
    assert role_of(user_cached(manager.pk)) is Role.NONE
