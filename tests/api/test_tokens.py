"""JWT for integrations: sign in, use, refresh with rotation, revoke, expiry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from conftest import PASSWORD
from tests.api.conftest import Estate

pytestmark = pytest.mark.django_db


def sign_in(username: str, password: str = PASSWORD) -> Any:
    return APIClient().post("/api/v1/auth/token", {"username": username, "password": password}, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_manager_signs_in_and_reads_with_the_access_token(estate: Estate, manager: Any) -> None:
    tokens = sign_in("manager").json()
    assert bearer(tokens["access"]).get("/api/v1/hostels").json()["count"] == 2


def test_warden_token_is_scoped_like_the_warden(estate: Estate, warden_a: Any) -> None:
    client = bearer(sign_in("warden_a").json()["access"])
    assert client.get(f"/api/v1/rooms/{estate.campus.room_b.pk}").status_code == 404
    assert client.get(f"/api/v1/rooms/{estate.campus.room_a.pk}").status_code == 200


def test_wrong_password_is_401_with_the_error_body(estate: Estate, manager: Any) -> None:
    response = sign_in("manager", "wrong")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_refresh_rotates_and_the_used_refresh_token_stops_working(estate: Estate, manager: Any) -> None:
    first = sign_in("manager").json()
    client = APIClient()
    rotated = client.post("/api/v1/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    assert bearer(rotated.json()["access"]).get("/api/v1/meters").status_code == 200
    replay = client.post("/api/v1/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert replay.status_code == 401


def test_revoked_refresh_token_cannot_be_used(estate: Estate, manager: Any) -> None:
    refresh = sign_in("manager").json()["refresh"]
    client = APIClient()
    assert client.post("/api/v1/auth/token/revoke", {"refresh": refresh}, format="json").status_code == 200
    assert client.post("/api/v1/auth/token/refresh", {"refresh": refresh}, format="json").status_code == 401


def test_expired_access_token_is_refused(estate: Estate, manager: Any) -> None:
    token = AccessToken.for_user(manager)
    token.set_exp(from_time=timezone.now() - dt.timedelta(hours=1), lifetime=dt.timedelta(minutes=15))
    response = bearer(str(token)).get("/api/v1/meters")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_deactivated_user_token_is_refused(estate: Estate, manager: Any) -> None:
    access = sign_in("manager").json()["access"]
    manager.is_active = False
    manager.save()
    assert bearer(access).get("/api/v1/meters").status_code == 401
