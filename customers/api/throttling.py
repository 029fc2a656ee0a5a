"""Request rates per signed-in user (session or JWT), per anonymous address, per token endpoint scope.

Rates live in settings (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`); counters live in the cache
(Redis in production, so every web process shares them). Gateways: `meters.throttling`.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


class SettingsRate:
    """Read the rate when a request comes, not at import, so settings overrides (tests) apply."""

    scope: str | None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)


class UserThrottle(SettingsRate, UserRateThrottle):
    """One budget per user, whether they come with a session or a JWT."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)


class AnonymousThrottle(SettingsRate, AnonRateThrottle):
    """Anonymous callers by address; a gateway (anonymous user, but with a key in request.auth) is not one."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.auth is not None:
            return None
        return super().get_cache_key(request, view)


class TokenEndpointThrottle(SettingsRate, ScopedRateThrottle):
    """The `throttle_scope` of the view (token endpoints: per address, since nobody is signed in yet)."""
