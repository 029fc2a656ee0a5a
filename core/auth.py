"""Sign-in lockout: django-axes, counting failures in the shared cache (Redis in production).

Failures are counted per (username, address) and per address (`AXES_LOCKOUT_PARAMETERS`). A
username alone is never locked: five wrong passwords from elsewhere cannot keep a user out from her
own address. The address count has a limit of its own (`LOGIN_ADDRESS_FAILURE_LIMIT`), higher than
a pair's (`LOGIN_FAILURE_LIMIT`), because one campus NAT signs many people in; axes has one limit,
so the handler here weighs the address count against it. The address is the one the API throttles
count (`client_address`): the peer's, or the one X-Forwarded-For names through `NUM_PROXIES` trusted
proxies.

Every path that signs in goes through `authenticate(request=...)` and so through axes: the sign-in
page, the admin and the API's token endpoint. The page and the endpoint say the same thing
(`lockout_message`). With the cache (Redis) down, signing in keeps working, unthrottled, and the
outage is logged: refusing everyone would turn a cache outage into a full outage.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_client_cache_keys, get_credentials
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from core.user_cache import user_cached

logger = logging.getLogger(__name__)
_CACHE_DOWN = (ConnectionInterrupted, RedisError, OSError)


class CachedUserBackend(ModelBackend):
    """Django's model backend, reading a session's user through the user cache (`core.user_cache`)."""

    def get_user(self, user_id: Any) -> Any:
        user = user_cached(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def client_address(request: HttpRequest) -> str | None:
    """The client's address by the throttles' rule (DRF's `NUM_PROXIES`), so a client cannot choose it."""
    return BaseThrottle().get_ident(request) or None  # type: ignore[arg-type]  # it reads only META


def lockout_message() -> str:
    minutes = max(1, int(settings.LOGIN_LOCKOUT_SECONDS) // 60)
    return f"Too many failed sign-ins. Try again in {minutes} minutes."


class PairAndAddressCacheHandler(AxesCacheHandler):
    """axes' cache handler with two limits: the (username, address) count at `AXES_FAILURE_LIMIT`,
    the address count at `LOGIN_ADDRESS_FAILURE_LIMIT`; open while the cache is down."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """The larger count, the address's scaled so that at its own limit it reaches the pair's."""
        pair_key, address_key = get_client_cache_keys(request, credentials)
        try:
            pair, address = (int(self.cache.get(key, default=0)) for key in (pair_key, address_key))
        except _CACHE_DOWN:
            logger.exception("sign-in lockout unavailable (cache down); not locking")
            return 0
        pair_limit, address_limit = int(settings.AXES_FAILURE_LIMIT), int(settings.LOGIN_ADDRESS_FAILURE_LIMIT)
        return max(pair, address * pair_limit // address_limit)

    def user_login_failed(self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except _CACHE_DOWN:
            logger.exception("sign-in lockout unavailable (cache down); failure not counted")
            return
        if request is not None and getattr(request, "axes_locked_out", False):
            # axes locks when either raw count reaches the pair's limit; the address has its own.
            request.axes_locked_out = self.is_locked(request, credentials)

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        """A success clears its (username, address) count, not the address's: whoever has one account
        must not be able to reset the address's limit on guessing others."""
        pair_key = get_client_cache_keys(request, get_credentials(user.get_username()))[0]
        try:
            self.cache.delete(pair_key)
        except _CACHE_DOWN:
            logger.exception("sign-in lockout unavailable (cache down); count not cleared")


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: Any) -> HttpResponse:
    """What a locked-out attempt is answered (axes' middleware asks): the sign-in page already says
    why (`LockoutAuthenticationForm`); the API answers its error shape; any other page (the admin)
    a plain 429."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": "locked_out", "message": lockout_message(), "fields": {}}}
        return JsonResponse(body, status=429)
    # axes' async path passes no original response (only its sync path does; ours is sync).
    login_page = request.resolver_match is not None and request.resolver_match.view_name == "login"
    if login_page and isinstance(original_response, HttpResponse):
        return original_response
    return HttpResponse(lockout_message(), status=429, content_type="text/plain; charset=utf-8")


class LockoutAuthenticationForm(AuthenticationForm):
    """The sign-in form, saying plainly when a lockout is the reason the sign-in failed."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "axes_locked_out", False):
                raise ValidationError(lockout_message(), code="locked_out") from None
            raise
