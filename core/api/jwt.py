"""Bearer-token (JWT) authentication whose user comes from the user cache.

A module of its own, importing no views: DRF imports DEFAULT_AUTHENTICATION_CLASSES while
`rest_framework.views` itself loads.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from core.user_cache import user_cached


class CachedUserJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer-token authentication, reading the token's user through the user cache.

    What the cache cannot answer (a token without a user claim, an unknown user, revocation by
    password hash when CHECK_REVOKE_TOKEN is on) goes to simplejwt's own lookup and its errors.
    """

    def get_user(self, validated_token: Token) -> Any:
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if user_id is None or api_settings.USER_ID_FIELD != "id" or api_settings.CHECK_REVOKE_TOKEN:
            return super().get_user(validated_token)
        user = user_cached(user_id)
        if user is None:
            return super().get_user(validated_token)
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user


class CachedUserJWTScheme(SimpleJWTScheme):
    """The schema documents it as simplejwt's bearer scheme (`jwtAuth`), which it is."""

    target_class = "core.api.jwt.CachedUserJWTAuthentication"
