"""Request rates per signed-in user (session or JWT), per anonymous address, per token endpoint scope.

Rates live in settings (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`); counters live in the cache
(Redis in production, so every web process shares them). Gateways: `meters.throttling`.

With Redis down, requests are let through unthrottled and the outage is logged (as the sign-in
lockout does): refusing every request would turn a cache outage into an API outage, and gateways
would stop delivering readings.

On Redis a budget is a sliding-window counter: this window's count plus the last window's, weighted
by how much of it still lies within the last `duration` seconds, kept by one INCR per request (one
round trip, atomic). DRF's own throttles keep a list of every request's time in the window, read
it and write it back whole (two round trips, a pickled list of up to 6,000 floats for the `user`
rate, and two requests at once in two processes count once). Elsewhere (the embedded in-process
cache) DRF's own way is kept.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import redis
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)
_last_outage_log = [0.0]  # monotonic time of the last outage warning in this process


def _outage_logged(error: Exception) -> None:
    """A warning a minute at most: during an outage every request would log one."""
    now = time.monotonic()
    if now - _last_outage_log[0] >= 60:
        _last_outage_log[0] = now
        logger.warning("API throttle unavailable (Redis down: %s); not throttling", error)


class SettingsRate:
    """Read the rate when a request comes, not at import, so settings overrides (tests) apply."""

    scope: str | None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)


class CountingRate(SimpleRateThrottle):
    """A sliding-window counter on Redis; DRF's request history on any other cache."""

    num_requests: int  # set by SimpleRateThrottle from the rate
    duration: int

    def allow_request(self, request: Request, view: Any) -> bool:
        backend = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache  # not the proxy
        if self.rate is None or not isinstance(backend, RedisCache):
            return super().allow_request(request, view)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window, into = divmod(self.now, self.duration)
        current, previous = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        client = backend._cache.get_client(current, write=True)  # type: ignore[attr-defined]  # its pool
        pipe = client.pipeline(transaction=False)
        pipe.incr(current)
        pipe.expire(current, 2 * self.duration + 1)
        pipe.get(previous)
        try:
            count, _, before = pipe.execute()
        except redis.RedisError as error:
            _outage_logged(error)
            return True
        self.counts = (int(before or 0), int(count), into)
        if int(before or 0) * (1 - into / self.duration) + count <= self.num_requests:
            return True
        with contextlib.suppress(redis.RedisError):
            client.decr(current)  # a refused request does not count against the budget (as DRF's)
        self.counts = (int(before or 0), int(count) - 1, into)
        return False

    def wait(self) -> float | None:
        if not hasattr(self, "counts"):
            return super().wait()
        # The next request is let in once before * (1 - share of this window gone) + count + 1 <= limit.
        before, count, into = self.counts
        limit, duration = self.num_requests, self.duration
        if count + 1 <= limit and before:  # later in this window, as the last one slides out
            return max(0.0, (1 - (limit - count - 1) / before) * duration - into)
        # In the next window, where this window's count is the one sliding out.
        return duration - into + max(0.0, 1 - (limit - 1) / max(count, 1)) * duration


class UserThrottle(SettingsRate, CountingRate, UserRateThrottle):
    """One budget per user, whether they come with a session or a JWT."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)


class AnonymousThrottle(SettingsRate, CountingRate, AnonRateThrottle):
    """Anonymous callers by address; a gateway (anonymous user, but with a key in request.auth) is not one."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.auth is not None:
            return None
        return super().get_cache_key(request, view)


class TokenEndpointThrottle(SettingsRate, ScopedRateThrottle, CountingRate):  # the view's scope first
    """The `throttle_scope` of the view (token endpoints: per address, since nobody is signed in yet)."""
