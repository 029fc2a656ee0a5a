"""The overview is kept briefly per scope and period: shared within a scope, never across scopes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.selectors.overview import DateRange, overview_for_user
from core.roles import WARDEN_GROUP
from meters.models import DailyRollup

UNREACHABLE_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


def overview_kwh(user: Any) -> float:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/v1/analytics/overview?days=7")
    assert response.status_code == 200, response.content
    return response.json()["kwh"]


@pytest.fixture
def today_rollups(campus: Any) -> None:
    today = timezone.localdate()
    DailyRollup.objects.create(meter=campus.meter_a, day=today, kwh=12.5, readings=96)
    DailyRollup.objects.create(meter=campus.meter_b, day=today, kwh=7.25, readings=96)


def add_kwh(meter: Any, kwh: float) -> None:
    DailyRollup.objects.filter(meter=meter, day=timezone.localdate()).update(kwh=kwh)


@override_settings(ANALYTICS_CACHE_SECONDS=30)
@pytest.mark.django_db
def test_one_scope_shares_an_entry_until_it_expires(today_rollups: None, campus: Any, manager: Any, admin: Any) -> None:
    assert overview_kwh(manager) == pytest.approx(19.75)
    add_kwh(campus.meter_a, 100.0)
    # Another user who sees everything reads the same entry: the change shows once it expires.
    assert overview_kwh(admin) == pytest.approx(19.75)
    with override_settings(ANALYTICS_CACHE_SECONDS=0):
        assert overview_kwh(admin) == pytest.approx(107.25)


@override_settings(ANALYTICS_CACHE_SECONDS=30)
@pytest.mark.django_db
def test_wardens_never_read_an_entry_of_a_wider_or_other_scope(
    today_rollups: None, campus: Any, manager: Any, warden_a: Any, warden_b: Any
) -> None:
    assert overview_kwh(manager) == pytest.approx(19.75)
    assert overview_kwh(warden_a) == pytest.approx(12.5)
    assert overview_kwh(warden_b) == pytest.approx(7.25)
    # A second warden of hostel A shares warden_a's entry; one given hostel B as well has a scope of their own.
    second = get_user_model().objects.create_user("warden_a2", password="x-Long-enough-9")
    second.groups.add(*warden_a.groups.all())
    campus.hostel_a.wardens.add(second)
    add_kwh(campus.meter_a, 50.0)
    assert overview_kwh(second) == pytest.approx(12.5)
    campus.hostel_b.wardens.add(second)
    fresh = get_user_model().objects.get(pk=second.pk)  # the scope is read once per user object
    assert fresh.groups.filter(name=WARDEN_GROUP).exists()
    assert overview_kwh(fresh) == pytest.approx(57.25)


@override_settings(ANALYTICS_CACHE_SECONDS=30, CACHES=UNREACHABLE_REDIS)
@pytest.mark.django_db
def test_a_cache_that_is_down_costs_speed_not_the_answer(today_rollups: None, campus: Any, manager: Any) -> None:
    period = DateRange.last_days(7)
    assert overview_for_user(user=manager, period=period)["kwh"] == pytest.approx(19.75)
    add_kwh(campus.meter_b, 1.0)
    assert overview_for_user(user=manager, period=period)["kwh"] == pytest.approx(13.5)
