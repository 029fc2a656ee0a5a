"""Silent meters are counted and picked in SQL: a large campus is not loaded into Python on every home page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models.signals import post_init
from django.utils import timezone

from meters.models import Meter
from meters.selectors import meters_silent_for_user
from meters.tests.factories import MeterFactory, RoomFactory

pytestmark = pytest.mark.django_db


def test_silent_meters_are_counted_without_loading_every_meter(campus: Any, manager: Any, warden_a: Any) -> None:
    now = timezone.now()
    Meter.objects.update(last_reading_at=now)
    for i in range(8):  # silent for 2 h at 15 minutes (45 minutes would do), the longest first
        MeterFactory.create(
            serial=f"SIL-{i}",
            room=RoomFactory.create(hostel=campus.hostel_a),
            last_reading_at=now - dt.timedelta(hours=2 + i),
        )
    MeterFactory.create(  # hourly: 2 h is within its three intervals
        serial="HOURLY",
        room=RoomFactory.create(hostel=campus.hostel_b),
        interval_minutes=60,
        last_reading_at=now - dt.timedelta(hours=2),
    )
    MeterFactory.create(serial="NEVER", room=RoomFactory.create(hostel=campus.hostel_b), last_reading_at=None)
    loaded: list[Meter] = []

    def count(sender: type, instance: Meter, **kwargs: Any) -> None:
        loaded.append(instance)

    post_init.connect(count, sender=Meter)
    try:
        n, first = meters_silent_for_user(user=manager, now=now, limit=3)
    finally:
        post_init.disconnect(count, sender=Meter)
    assert n == 9
    assert [m.serial for m in first] == ["NEVER", "SIL-7", "SIL-6"]
    assert len(loaded) == 3  # the ones shown, not every meter
    n, first = meters_silent_for_user(user=warden_a, now=now, limit=3)
    assert n == 8
    assert all(m.hostel_id == campus.hostel_a.pk for m in first)
