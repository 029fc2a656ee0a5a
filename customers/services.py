"""Writes for customers and roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

from customers.roles import MANAGER_GROUP, WARDEN_GROUP


def role_groups_ensure(**_: Any) -> list[Group]:
    """Create the role groups if missing (post_migrate); an admin's edits to them are kept."""
    return [Group.objects.get_or_create(name=name)[0] for name in (MANAGER_GROUP, WARDEN_GROUP)]
