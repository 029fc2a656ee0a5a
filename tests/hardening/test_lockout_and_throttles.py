"""Issue 25: lockout cannot be used against a user, throttles count the right client, runs a user can
queue are bounded.

Each test below fails on the code before the fix: the lockout keyed on the username alone, the
token endpoint answered a lockout as a wrong password, DRF's throttles ran after the 401, the
anonymous address came from a client-chosen X-Forwarded-For, and detection runs were unbounded.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from rest_framework.test import APIClient

from conftest import PASSWORD
from core.auth import lockout_message
from predictions.detection.ondemand import detection_runs_queued
from predictions.tasks import detect_requested
from tests.api.conftest import api_for
from tests.hardening.faults import ROOT, subprocess_env

pytestmark = pytest.mark.django_db

ATTACKER, WARDEN_HOME = "203.0.113.9", "198.51.100.7"
LOCKED = "Too many failed sign-ins"


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    cache.clear()


def rates(**changes: Any) -> Any:
    framework: dict[str, Any] = copy.deepcopy(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], **changes}
    return override_settings(REST_FRAMEWORK=framework)


def _page(address: str, username: str, password: str, **headers: Any) -> Any:
    return Client(REMOTE_ADDR=address, **headers).post("/accounts/login/", {"username": username, "password": password})


def _token(address: str, username: str, password: str, **headers: Any) -> Any:
    client = APIClient(REMOTE_ADDR=address, **headers)
    return client.post("/api/v1/auth/token", {"username": username, "password": password}, format="json")


# --- Lockout cannot be used against a user ---


def test_wrong_passwords_from_elsewhere_do_not_lock_a_user_out_from_her_own_address(warden_a: Any) -> None:
    for _ in range(6):
        assert _page(ATTACKER, "warden_a", "wrong-password").status_code == 200
    assert LOCKED in _page(ATTACKER, "warden_a", PASSWORD).content.decode(), "the attacker's address is locked"
    assert _page(WARDEN_HOME, "warden_a", PASSWORD).status_code == 302, "she signs in from her own address"
    assert _token(WARDEN_HOME, "warden_a", PASSWORD).status_code == 200


def test_one_address_has_a_limit_across_usernames(warden_a: Any) -> None:
    """Guessing one password each for many usernames stops at the address's own limit (20 by default),
    which a campus NAT's occasional typo does not reach."""
    limit = int(settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    for attempt in range(limit - 1):
        _page(ATTACKER, f"student{attempt % 7}", "wrong-password")
    assert _page(ATTACKER, "warden_a", PASSWORD).status_code == 302, "under the address's limit"
    _page(ATTACKER, "student0", "wrong-password")  # her success did not clear the address's count
    refused = _page(ATTACKER, "warden_a", PASSWORD)
    assert LOCKED in refused.content.decode()
    assert _token(ATTACKER, "warden_a", PASSWORD).status_code == 429
    assert _page(WARDEN_HOME, "warden_a", PASSWORD).status_code == 302


def test_the_token_endpoint_answers_a_lockout_as_the_page_does(warden_a: Any) -> None:
    for _ in range(5):
        assert _token(ATTACKER, "warden_a", "wrong-password").status_code in (401, 429)
    answer = _token(ATTACKER, "warden_a", PASSWORD)
    assert answer.status_code == 429
    assert answer.json()["error"]["code"] == "locked_out"
    assert answer.json()["error"]["message"] == lockout_message()
    page = _page(ATTACKER, "warden_a", PASSWORD).content.decode()
    assert lockout_message() in page, "failures at the endpoint lock the page too, with the same words"


def test_rotating_x_forwarded_for_does_not_escape_the_lockout(warden_a: Any) -> None:
    for k in range(6):
        _page(ATTACKER, "warden_a", "wrong-password", HTTP_X_FORWARDED_FOR=f"10.9.{k}.1")
    assert LOCKED in _page(ATTACKER, "warden_a", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.99.1").content.decode()


# --- Throttles count the right client ---


def test_the_anonymous_rate_fires_on_a_protected_endpoint(campus: Any) -> None:
    with rates(anon="3/minute"):
        client = api_for()
        codes = [client.get("/api/v1/meters").status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        refused = client.get("/api/v1/alerts", HTTP_AUTHORIZATION="Bearer not-a-token")
        assert refused.status_code == 429, "a garbage token is an anonymous caller too"
        assert refused.json()["error"]["code"] == "throttled"
        assert int(refused["Retry-After"]) > 0


def test_a_signed_in_user_refused_403_is_still_counted(campus: Any, nobody: Any) -> None:
    with rates(user="2/minute"):
        client = api_for(nobody)
        assert [client.get("/api/v1/meters").status_code for _ in range(3)] == [403, 403, 429]


def test_rotating_x_forwarded_for_does_not_escape_the_anonymous_and_token_rates(campus: Any) -> None:
    with rates(anon="3/minute", token="3/minute"):
        codes = [
            APIClient(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.0.{k}").get("/api/v1/meters").status_code
            for k in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        codes = [_token(ATTACKER, "nobody", "guess", HTTP_X_FORWARDED_FOR=f"10.1.0.{k}").status_code for k in range(4)]
        assert codes == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_the_address_it_names_is_the_client(campus: Any, warden_a: Any) -> None:
    framework: dict[str, Any] = copy.deepcopy(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"]["anon"] = "2/minute"
    framework["NUM_PROXIES"] = 1
    with override_settings(REST_FRAMEWORK=framework):
        proxy = "10.0.0.2"

        def via_proxy(client_address: str) -> int:
            client = APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"6.6.6.6, {client_address}")
            return int(client.get("/api/v1/meters").status_code)

        assert [via_proxy("192.0.2.1") for _ in range(3)] == [401, 401, 429]
        assert via_proxy("192.0.2.2") == 401, "another client behind the same proxy has its own budget"

        def sign_in(client_address: str, password: str) -> Any:
            return _page(proxy, "warden_a", password, HTTP_X_FORWARDED_FOR=f"6.6.6.6, {client_address}")

        for _ in range(5):
            sign_in("192.0.2.1", "wrong-password")
        assert LOCKED in sign_in("192.0.2.1", PASSWORD).content.decode(), "the lockout counts the same client"
        assert sign_in("192.0.2.2", PASSWORD).status_code == 302, "and not everyone behind the proxy"


# --- Runs a user can queue are bounded ---

RUN = {"start": "2025-01-10T00:00:00Z", "end": "2025-01-11T00:00:00Z"}


def _run(client: APIClient, meter: Any) -> Any:
    return client.post("/api/v1/detection/run", {**RUN, "meters": [meter.pk]}, format="json")


@override_settings(DETECTION_RUNS_QUEUED_MAX=3)
def test_runs_queued_and_not_started_are_capped_per_user(
    campus: Any, warden_a: Any, manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, meter = api_for(warden_a), campus.meter_a
    with django_capture_on_commit_callbacks() as queued:
        assert [_run(client, meter).status_code for _ in range(3)] == [202] * 3
        refused = _run(client, meter)
    assert len(queued) == 3, "the refused run was not queued"
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_runs_queued"
    assert "3 detection runs waiting to start" in refused.json()["error"]["message"]
    assert _run(api_for(manager), meter).status_code == 202, "another user has a cap of their own"
    assert detection_runs_queued(user_id=warden_a.pk) == 3
    detect_requested.apply(kwargs={**RUN, "meter_ids": [meter.pk], "user_id": warden_a.pk})  # one starts
    assert detection_runs_queued(user_id=warden_a.pk) == 2
    assert _run(client, meter).status_code == 202


def test_detection_runs_have_a_per_user_rate(campus: Any, warden_a: Any, manager: Any) -> None:
    with rates(detection="2/minute"), override_settings(DETECTION_RUNS_QUEUED_MAX=100):
        client, meter = api_for(warden_a), campus.meter_a
        codes = [_run(client, meter).status_code for _ in range(3)]
        assert codes == [202, 202, 429]
        refused = _run(client, meter)
        assert refused.json()["error"]["code"] == "throttled"
        assert "Detection runs are limited per user" in refused.json()["error"]["message"]
        assert _run(api_for(manager), meter).status_code == 202


# --- Against the real Redis: every web process shares the counts ---

FAIL_ELSEWHERE = textwrap.dedent(
    """
    import django
    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()  # the test client's host name is allowed
    body = {"username": "warden_a", "password": "wrong"}
    print([Client(REMOTE_ADDR="203.0.113.9").post("/accounts/login/", body).status_code for _ in range(5)])
    """
)


@pytest.mark.redis
@pytest.mark.postgres
def test_failures_counted_in_another_web_process_lock_this_one(warden_a: Any) -> None:
    run = subprocess.run(
        [sys.executable, "-c", FAIL_ELSEWHERE],
        cwd=ROOT,
        env=subprocess_env(DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "[200, 200, 200, 200, 200]", "refused on the sign-in page"
    assert LOCKED in _page(ATTACKER, "warden_a", PASSWORD).content.decode()
    assert _page(WARDEN_HOME, "warden_a", PASSWORD).status_code == 302
