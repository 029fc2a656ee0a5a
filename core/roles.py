"""Who a user is in Wattwatch: admin, facility manager, warden, or nobody.

Roles are Django groups (plus staff for admins). Which hostels a role may see is `meters.scoping`
(`scope_for`), beside `Hostel`, since wardens are assigned to hostels there.
"""

from __future__ import annotations

import enum
from typing import Any

MANAGER_GROUP = "Facility managers"
WARDEN_GROUP = "Wardens"


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    WARDEN = "warden"
    NONE = "none"

    @property
    def label(self) -> str:
        return {"admin": "Administrator", "manager": "Facility manager", "warden": "Warden", "none": "No role"}[
            self.value
        ]


def role_of(user: Any) -> Role:
    if user is None or not user.is_authenticated or not user.is_active:
        return Role.NONE
    if user.is_superuser or user.is_staff:
        return Role.ADMIN
    groups = _group_names(user)
    if MANAGER_GROUP in groups:
        return Role.MANAGER
    if WARDEN_GROUP in groups:
        return Role.WARDEN
    return Role.NONE


def _group_names(user: Any) -> frozenset[str]:
    cached = getattr(user, "_wattwatch_groups", None)
    return cached if cached is not None else group_names_attach(user)


def group_names_attach(user: Any) -> frozenset[str]:
    """Read the user's group names and keep them on the user (`core.user_cache` caches both)."""
    names = frozenset(user.groups.values_list("name", flat=True))
    user._wattwatch_groups = names
    return names
