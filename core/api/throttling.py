"""API throttles: DRF's own, counting in the shared cache (Redis in production, so all web processes
count together). Per signed-in user (session or JWT), per anonymous address, per view scope (the
token endpoints, on-demand detection); gateways per key: `meters.throttling`.

Rates live in settings (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`). The client's address is DRF's
`get_ident`: the peer's address, or X-Forwarded-For only through `NUM_PROXIES` trusted proxies, so
a client cannot choose the address it is counted under.

What DRF does not do, and these classes add:
- With Redis down a request is let through unthrottled and the outage logged (as the sign-in
  lockout does): refusing every request would turn a cache outage into an API outage, and gateways
  would stop delivering readings.
- DRF checks throttles after authentication and permissions, so a request refused with 401 or 403
  was never counted and an unauthenticated flood was never throttled. The API's exception handler
  counts such a request with `refusal_throttled`; a throttle marks the view it has counted, so no
  request is counted twice.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)
_last_outage_log = [0.0]  # monotonic time of the last outage warning in this process
COUNTED = "wattwatch_throttles_counted"  # set on a view whose request the throttles have seen


def _outage_logged(error: Exception) -> None:
    """A warning a minute at most: during an outage every request would log one."""
    now = time.monotonic()
    if now - _last_outage_log[0] >= 60:
        _last_outage_log[0] = now
        logger.warning("API throttle unavailable (Redis down: %s); not throttling", error)


class Throttle(SimpleRateThrottle):
    """DRF's throttle, reading its rate when a request comes (settings overrides apply) and open
    while the cache is down."""

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)

    def allow_request(self, request: Request, view: Any) -> bool:
        if view is not None:
            setattr(view, COUNTED, True)
        try:
            return super().allow_request(request, view)
        except (ConnectionInterrupted, RedisError, OSError) as error:
            _outage_logged(error)
            return True


class UserThrottle(Throttle, UserRateThrottle):
    """One budget per user, whether they come with a session or a JWT; anonymous callers are the
    anonymous throttle's."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)


class AnonymousThrottle(Throttle, AnonRateThrottle):
    """Anonymous callers by address; a gateway (anonymous user, but with a key in request.auth) is not one."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.auth is not None:
            return None
        return super().get_cache_key(request, view)


class ScopedThrottle(Throttle, ScopedRateThrottle):
    """The view's `throttle_scope`: per user when signed in, else per address (the token endpoints)."""


def refusal_throttled(exc: Exception, context: dict[str, Any]) -> Exception:
    """`Throttled` instead of `exc` (a 401 or 403 raised before the view's throttles ran) when
    counting this request puts it over a rate; else `exc`, the request now counted."""
    view, request = context.get("view"), context.get("request")
    if view is None or request is None or getattr(view, COUNTED, False):
        return exc
    try:
        view.check_throttles(request)
    except Throttled as throttled:
        return throttled
    return exc
