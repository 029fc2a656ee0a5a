"""Meter gateways authenticate with `Authorization: Gateway <key>`; only the key's hash is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from meters.models import GatewayToken

KEYWORD = "Gateway"
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_generate() -> str:
    return secrets.token_urlsafe(32)


class GatewayTokenAuthentication(authentication.BaseAuthentication):
    """A gateway is not a user: request.user stays anonymous and request.auth is the token."""

    def authenticate(self, request: Request) -> tuple[Any, GatewayToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Gateway <key>'.")
        now = timezone.now()
        token = (
            GatewayToken.objects.filter(key_hash=key_hash(header[1]), is_active=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown, revoked or expired gateway key.")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            GatewayToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class GatewayTokenScheme(OpenApiAuthenticationExtension):
    """Documents gateway keys in the OpenAPI schema."""

    target_class = "meters.authentication.GatewayTokenAuthentication"
    name = "gatewayKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Meter gateway key: `Authorization: Gateway <key>` (created in the admin, shown once).",
        }
