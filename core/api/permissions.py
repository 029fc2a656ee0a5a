"""Who may call the API: a Wattwatch role; writes to shared data need a manager or an admin.

Kept apart from the rest of the plumbing: DRF imports the default permission classes while it
is itself being imported, so this module must import nothing of DRF but its permissions.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from core.roles import Role, role_of


class HasRole(IsAuthenticated):
    """Signed in and given a Wattwatch role (admin, facility manager or warden)."""

    message = "Your account has no Wattwatch role."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and role_of(request.user) is not Role.NONE


class IsManager(HasRole):
    """Facility managers and administrators: they may change data of every hostel."""

    message = "Only facility managers and administrators may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and role_of(request.user) in (Role.ADMIN, Role.MANAGER)
