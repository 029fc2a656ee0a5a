"""The signed-in user and their role groups, read once and kept in the shared cache for a while.

Every request of a signed-in person (page, API call, socket) loads its user: Django's session
authentication reads the user row, then the role check reads the user's groups, two PostgreSQL
round trips before the view does anything. Under load the web processes wait for PostgreSQL on the
same cores as ingestion (py-spy on the load bench: 10 % of a web process's samples in the user
query alone). Here the user, with its group names attached as `core.roles` reads them, is kept
in the cache (Redis in production, shared by all web processes) for USER_CACHE_SECONDS.

What changes a user's access forgets the entry, in every process: saving or deleting the user
(password, is_active, is_staff, ...), adding them to a group or removing them, renaming or deleting a
group. Forgetting moves the user's generation on, when the change is made and again when its
transaction commits, and an entry counts only if it was filled at the current generation: a request
that read the user before the commit (the admin saves inside a transaction) or while the change was
being made cannot put the old access back. A change that bypasses signals (a queryset `update()`,
raw SQL) shows within USER_CACHE_SECONDS. With the cache down, users are read from the database, as
without this module. Keys carry Django's version: an upgrade never unpickles another version's users.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from core.roles import group_names_attach

logger = logging.getLogger(__name__)

KEY = f"wattwatch:user:v2:{django.__version__}:{{}}"  # -> (generation, user)
GENERATION = "wattwatch:user-generation:{}"
# A generation outlives every entry filled under it (they last USER_CACHE_SECONDS at most), so one
# that expired cannot bring an older entry back to life.
GENERATION_LIFETIME = 24 * 3600


def user_cached(user_id: Any) -> Any | None:
    """The user with this primary key and their group names, from the cache or else the database
    (then cached); None if there is no such user."""
    seconds = int(settings.USER_CACHE_SECONDS)
    key, generation_key = KEY.format(user_id), GENERATION.format(user_id)
    generation = 0
    if seconds > 0:
        try:
            found = cache.get_many([key, generation_key])
        except Exception:  # the cache is down: the database still answers
            logger.warning("user cache unavailable; reading user %s from the database", user_id, exc_info=True)
            seconds = 0
        else:
            generation = int(found.get(generation_key) or 0)
            entry = found.get(key)
            if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == generation:
                return entry[1]
    model = get_user_model()
    try:
        user = model._default_manager.get(pk=user_id)
    except (model.DoesNotExist, ValueError, TypeError):
        return None
    group_names_attach(user)
    if seconds > 0:
        try:
            cache.set(key, (generation, user), timeout=seconds)  # the generation read before the query
        except Exception:
            logger.warning("user cache unavailable; user %s not cached", user_id, exc_info=True)
    return user


def users_forget(user_ids: Iterable[Any]) -> None:
    """Make these users' cached copies stale now and again when the current transaction commits."""
    ids = [user_id for user_id in user_ids if user_id is not None]
    if not ids:
        return
    _generations_advance(ids)
    transaction.on_commit(lambda: _generations_advance(ids))


def _generations_advance(user_ids: list[Any]) -> None:
    try:
        for user_id in user_ids:
            key = GENERATION.format(user_id)
            if not cache.add(key, 1, timeout=GENERATION_LIFETIME):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, timeout=GENERATION_LIFETIME)
                cache.touch(key, timeout=GENERATION_LIFETIME)
    except Exception:  # nothing to do but say so: the entries expire within USER_CACHE_SECONDS
        logger.error(
            "user cache unavailable; %d changed users stay cached until they expire", len(user_ids), exc_info=True
        )


def _user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    users_forget([instance.pk])


def _group_changed(sender: Any, instance: Group, **kwargs: Any) -> None:
    if instance.pk is not None:
        users_forget(instance.user_set.values_list("pk", flat=True))


def _membership_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:  # user.groups.add(...): this user
        users_forget([instance.pk])
    elif pk_set:  # group.user_set.add(...): these users
        users_forget(pk_set)
    elif action == "pre_clear":  # group.user_set.clear(): everyone in it, read before they go
        users_forget(instance.user_set.values_list("pk", flat=True))


def user_cache_signals_connect() -> None:
    model = get_user_model()
    post_save.connect(_user_changed, sender=model, dispatch_uid="core.user_cache.saved")
    post_delete.connect(_user_changed, sender=model, dispatch_uid="core.user_cache.deleted")
    post_save.connect(_group_changed, sender=Group, dispatch_uid="core.user_cache.group_saved")
    pre_delete.connect(_group_changed, sender=Group, dispatch_uid="core.user_cache.group_deleted")
    m2m_changed.connect(_membership_changed, sender=model.groups.through, dispatch_uid="core.user_cache.membership")
