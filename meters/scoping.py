"""What a user may see, beside `Hostel`: everything, or only the hostels they are warden of.

Every scoped read asks `scope_for(user)`: the estate's querysets (`Hostel.objects.visible_to(user)`
and its equivalents in `meters.querysets`), the apps above through theirs. Accounts and
transformers (models of `customers`, which knows nothing of hostels) are scoped in
`meters.selectors.accounts`, through the rooms and meters of the visible hostels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.roles import Role, role_of


@dataclass(frozen=True)
class Scope:
    """What a user may see: everything, or only these hostels (possibly none)."""

    role: Role
    everything: bool
    hostel_ids: frozenset[int]


def scope_for(user: Any) -> Scope:
    """The user's scope, read once per user object (kept on it for the rest of the request)."""
    cached = getattr(user, "_wattwatch_scope", None)
    if cached is not None:
        return cached
    role = role_of(user)
    if role in (Role.ADMIN, Role.MANAGER):
        scope = Scope(role=role, everything=True, hostel_ids=frozenset())
    elif role is Role.WARDEN:
        ids = frozenset(user.warden_hostels.values_list("id", flat=True))
        scope = Scope(role=role, everything=False, hostel_ids=ids)
    else:
        scope = Scope(role=role, everything=False, hostel_ids=frozenset())
    if user is not None and user.is_authenticated:
        user._wattwatch_scope = scope
    return scope
