"""Writes for customers and roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

from core.roles import MANAGER_GROUP, WARDEN_GROUP
from customers.models import AuditEntry


def role_groups_ensure(**_: Any) -> list[Group]:
    """Create the role groups if missing (post_migrate); an admin's edits to them are kept."""
    return [Group.objects.get_or_create(name=name)[0] for name in (MANAGER_GROUP, WARDEN_GROUP)]


def audit_record(*, actor: Any, action: str, target: str, detail: dict[str, Any] | None = None) -> AuditEntry:
    """Append one audit entry. `actor` is a user, or a label (gateway, command) for machines."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    if user is not None:
        label = user.get_username()
    elif isinstance(actor, str) and actor:
        label = actor
    else:
        label = "anonymous" if actor is not None else "system"
    return AuditEntry.objects.create(
        actor=user, actor_label=label[:150], action=action, target=target[:300], detail=detail or {}
    )
