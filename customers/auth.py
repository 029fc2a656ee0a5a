"""Sign-in throttling: after repeated failures a username (and the address trying it) is locked out.

A small cache-based limiter rather than django-axes: it needs no extra tables or middleware, works
with every login path that goes through `authenticate()` (the sign-in page, the admin, DRF), and
uses the Redis cache that every web process shares in production.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from customers.user_cache import user_cached

logger = logging.getLogger(__name__)


def _keys(*, username: str, request: HttpRequest | None) -> list[str]:
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    keys = [f"login-fail:user:{name}"]
    address = request.META.get("REMOTE_ADDR") if request is not None else None
    if address:
        keys.append(f"login-fail:ip:{address}")
    return keys


def login_locked(*, username: str, request: HttpRequest | None) -> bool:
    """True when this username or address has failed too often within the lockout window.

    With the cache (Redis) down this answers False: signing in keeps working, unthrottled, and
    the outage is logged; refusing everyone would turn a cache outage into a full outage.
    """
    try:
        return _locked(username=username, request=request)
    except Exception:
        logger.exception("sign-in throttle unavailable (cache down); not throttling")
        return False


def _locked(*, username: str, request: HttpRequest | None) -> bool:
    limit = int(settings.LOGIN_FAILURE_LIMIT)
    user_key, *address_key = _keys(username=username, request=request)
    if int(cache.get(user_key, 0)) >= limit:
        return True
    # An address is allowed more failures than one username (a shared campus NAT signs many in).
    return bool(address_key) and int(cache.get(address_key[0], 0)) >= limit * 4


def login_failure_record(*, username: str, request: HttpRequest | None) -> None:
    """Count one failed sign-in for the username and the address; the count expires by itself."""
    try:
        _count(username=username, request=request)
    except Exception:
        logger.exception("sign-in throttle unavailable (cache down); failure not counted")


def _count(*, username: str, request: HttpRequest | None) -> None:
    for key in _keys(username=username, request=request):
        if cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def login_failures_clear(*, username: str, request: HttpRequest | None) -> None:
    try:
        cache.delete(_keys(username=username, request=None)[0])
    except Exception:
        logger.exception("sign-in throttle unavailable (cache down)")


class ThrottledModelBackend(ModelBackend):
    """Django's model backend, refusing every attempt (even a right password) while locked out, and
    reading signed-in users through the user cache."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None:
            return None
        if login_locked(username=username, request=request):
            raise PermissionDenied("too many failed sign-ins")  # authenticate() stops at this backend
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username=username, request=request)
        else:
            login_failures_clear(username=username, request=request)
        return user

    def get_user(self, user_id: Any) -> Any:
        """The session's user, through the shared cache (`customers.user_cache`), if still allowed in."""
        user = user_cached(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ThrottledAuthenticationForm(AuthenticationForm):
    """The sign-in form, saying plainly when a lockout is the reason."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and login_locked(username=username, request=self.request):
            minutes = max(1, int(settings.LOGIN_LOCKOUT_SECONDS) // 60)
            raise ValidationError(f"Too many failed sign-ins. Try again in {minutes} minutes.", code="locked_out")
        return super().clean()
