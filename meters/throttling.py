"""Gateways are throttled per key, wherever they connect from (rate `gateway` in settings)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from core.api.throttling import Throttle
from meters.models import GatewayToken


class GatewayThrottle(Throttle):
    """One budget per gateway key."""

    scope = "gateway"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, GatewayToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
