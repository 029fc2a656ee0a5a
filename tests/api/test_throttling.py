"""Throttles per user, per anonymous address, per gateway key and on the token endpoint."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from customers.api.throttling import CountingRate
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


class _TenAMinute(CountingRate):
    rate = "10/minute"

    def __init__(self, at: float | None = None) -> None:
        super().__init__()
        if at is not None:
            self.timer = lambda: at

    def get_cache_key(self, request: Any, view: Any) -> str:
        return "throttle_test_ten"


@pytest.mark.redis
def test_on_redis_requests_at_once_from_many_threads_are_each_counted() -> None:
    """DRF's read-append-write history lets simultaneous requests through uncounted; INCR does not."""
    assert isinstance(caches["default"], RedisCache)
    cache.clear()
    allowed: list[bool] = []

    def three() -> None:
        for _ in range(3):
            allowed.append(_TenAMinute().allow_request(None, None))  # type: ignore[arg-type]

    threads = [threading.Thread(target=three) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 10
    assert len(allowed) == 30


@pytest.mark.redis
def test_on_redis_the_last_window_weighs_as_much_as_still_lies_within_the_rate_s_period() -> None:
    cache.clear()
    minute = 29_000_000  # some minute, in minutes since the epoch
    client = caches["default"]._cache.get_client(write=True)  # type: ignore[attr-defined]
    client.set(f"throttle_test_ten:{minute - 1}", 10)  # the last minute used the whole budget
    early = _TenAMinute(at=minute * 60 + 3)  # 95 % of it still counts: 9.5 + 1 > 10
    assert early.allow_request(None, None) is False  # type: ignore[arg-type]
    assert early.wait() == pytest.approx(3.0)  # at 6 s in, 9 + 1 <= 10
    assert client.get(f"throttle_test_ten:{minute}") == b"0"  # the refused request was not counted
    later = _TenAMinute(at=minute * 60 + 6)
    assert later.allow_request(None, None) is True  # type: ignore[arg-type]
    assert _TenAMinute(at=minute * 60 + 7).allow_request(None, None) is False  # type: ignore[arg-type]
    halfway = minute * 60 + 30  # 5 of the last minute's count, 1 of this one's: room for 4 more
    assert [_TenAMinute(at=halfway).allow_request(None, None) for _ in range(5)] == [True] * 4 + [False]  # type: ignore[arg-type]
    refused = _TenAMinute(at=halfway)
    assert refused.allow_request(None, None) is False  # type: ignore[arg-type]
    assert refused.wait() == pytest.approx(6.0)  # at 36 s in, 4 + 5 + 1 <= 10
