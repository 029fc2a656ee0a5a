"""Server-Timing tells any client how long the server worked: only when SERVER_TIMING is on."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings


@pytest.mark.django_db
def test_api_answers_carry_no_server_timing_by_default() -> None:
    response = Client().get("/api/v1/health")
    assert "Server-Timing" not in response.headers


@pytest.mark.django_db
@override_settings(SERVER_TIMING=True)
def test_api_answers_say_their_time_inside_django_when_server_timing_is_on() -> None:
    response = Client().get("/api/v1/health")  # a new client builds its middleware under these settings
    names = [part.strip().split(";dur=")[0] for part in response.headers["Server-Timing"].split(",")]
    assert names == ["app", "cpu"]
    assert "Server-Timing" not in Client().get("/accounts/login/").headers  # pages never
