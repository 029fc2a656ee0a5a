"""Throttles per user, per anonymous address, per gateway key and on the token endpoint."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from tests.api.conftest import Estate, api_for

pytestmark = pytest.mark.django_db


def rates(**changes: str) -> Any:
    framework: dict[str, Any] = copy.deepcopy(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], **changes}
    return override_settings(REST_FRAMEWORK=framework)


def test_a_user_over_their_rate_gets_429_with_retry_after(estate: Estate, manager: Any, warden_a: Any) -> None:
    with rates(user="3/minute"):
        client = api_for(manager)
        assert [client.get("/api/v1/meters").status_code for _ in range(4)] == [200, 200, 200, 429]
        response = client.get("/api/v1/hostels")
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "throttled"
        assert int(response["Retry-After"]) > 0
        # Another user has their own budget.
        assert api_for(warden_a).get("/api/v1/meters").status_code == 200


def test_a_gateway_key_has_its_own_budget(estate: Estate) -> None:
    rows = [{"meter": "RM-A-101", "timestamp": "2025-02-01T00:00:00Z", "kwh": 0.2}]
    with rates(gateway="2/minute"):
        client = api_for(gateway_key=estate.gateway_key)
        codes = [client.post("/api/v1/readings/batch", rows, format="json").status_code for _ in range(3)]
        assert codes == [200, 200, 429]


def test_token_endpoint_is_throttled_against_password_guessing(estate: Estate, manager: Any) -> None:
    with rates(token="2/minute"):
        client = api_for()
        body = {"username": "manager", "password": "guess"}
        codes = [client.post("/api/v1/auth/token", body, format="json").status_code for _ in range(3)]
        assert codes == [401, 401, 429]
