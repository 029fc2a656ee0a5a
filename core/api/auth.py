"""API tokens for integrations: JWT access tokens with rotating, revocable refresh tokens.

Why JWT rather than stored personal tokens: an access token is checked from its signature alone, and
its user comes from the user cache (`core.api.jwt`), so integrations cost no database query per
request for who they are; it expires in minutes. The
long-lived secret is the refresh token: each refresh returns a new one and blacklists the old
(`ROTATE_REFRESH_TOKENS`, `BLACKLIST_AFTER_ROTATION`), so a leaked refresh token works at most once,
and `/auth/token/revoke` ends a session. Gateways keep their own keys.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt import views as jwt_views

from core.api.base import errors
from core.api.throttling import ScopedThrottle
from core.auth import lockout_message


class SignInLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


PAIR = {"access": "eyJhbGciOiJIUzI1NiIs...", "refresh": "eyJhbGciOiJIUzI1NiIs..."}


@extend_schema_view(
    post=extend_schema(
        summary="Sign in: a 15-minute access token and a 7-day refresh token",
        responses={200: jwt_views.TokenObtainPairView.serializer_class, **errors(400, 401, 429)},
        examples=[
            OpenApiExample("Credentials", value={"username": "manager", "password": "..."}, request_only=True),
            OpenApiExample("Tokens", value=PAIR, response_only=True),
        ],
    )
)
class TokenObtainView(jwt_views.TokenObtainPairView):
    # Open to anyone (simplejwt sets no authentication or permission), so throttled hard per address.
    throttle_classes = [ScopedThrottle]
    throttle_scope = "token"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """simplejwt signs in with `authenticate(request=...)`, so through axes' lockout; a locked-out
        attempt is answered as the sign-in page answers it, not as a wrong password."""
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                raise SignInLocked(lockout_message()) from None
            raise


@extend_schema_view(
    post=extend_schema(
        summary="Refresh: a new access token and a new refresh token (the old one stops working)",
        responses={200: jwt_views.TokenRefreshView.serializer_class, **errors(400, 401, 429)},
        examples=[OpenApiExample("Tokens", value=PAIR, response_only=True)],
    )
)
class TokenRefreshView(jwt_views.TokenRefreshView):
    # Open to anyone (simplejwt sets no authentication or permission), so throttled hard per address.
    throttle_classes = [ScopedThrottle]
    throttle_scope = "token"


@extend_schema_view(
    post=extend_schema(
        summary="Revoke a refresh token (sign out an integration)",
        responses={200: jwt_views.TokenBlacklistView.serializer_class, **errors(400, 401, 429)},
    )
)
class TokenRevokeView(jwt_views.TokenBlacklistView):
    # Open to anyone (simplejwt sets no authentication or permission), so throttled hard per address.
    throttle_classes = [ScopedThrottle]
    throttle_scope = "token"
