"""Virtual hostel totals and the main-meter balance come from rollups and respect scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from meters.ingest import readings_ingest
from meters.models import Meter
from meters.selectors import hostel_balance, hostel_rooms_total, meter_gaps_for_user
from meters.tests.factories import MeterFactory, RoomFactory

T0 = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)


def feed(serial: str, kwh: float, count: int = 4) -> None:
    readings_ingest(
        rows=[
            {"meter": serial, "timestamp": (T0 + dt.timedelta(minutes=15 * k)).isoformat(), "kwh": kwh}
            for k in range(count)
        ],
        source="test",
    )


@pytest.mark.django_db
def test_hostel_total_is_the_sum_of_its_rooms_and_balance_shows_the_main_meter_excess(
    campus: Any, manager: Any, warden_b: Any
) -> None:
    second = MeterFactory.create(serial="RM-A-102", room=RoomFactory.create(hostel=campus.hostel_a, number="A-102"))
    MeterFactory.create(serial="MAIN-A", kind=Meter.Kind.HOSTEL_MAIN, room=None, hostel=campus.hostel_a)
    feed("RM-A-101", 0.25)
    feed(second.serial, 0.5)
    feed("MAIN-A", 1.0)
    total = hostel_rooms_total(user=manager, hostel_id=campus.hostel_a.id, start=T0, end=T0 + dt.timedelta(hours=1))
    assert [(point.at, point.kwh) for point in total] == [(T0, pytest.approx(3.0))]
    balance = hostel_balance(user=manager, hostel_id=campus.hostel_a.id, start=T0, end=T0 + dt.timedelta(hours=1))
    assert balance[0].difference_kwh == pytest.approx(1.0)
    assert balance[0].difference_pct == pytest.approx(25.0)
    daily = hostel_rooms_total(
        user=manager, hostel_id=campus.hostel_a.id, start=T0.date(), end=T0.date() + dt.timedelta(days=1), daily=True
    )
    assert daily[0].kwh == pytest.approx(3.0)
    assert (
        hostel_rooms_total(user=warden_b, hostel_id=campus.hostel_a.id, start=T0, end=T0 + dt.timedelta(hours=1)) == []
    )


@pytest.mark.django_db
def test_wardens_cannot_read_another_hostels_meter_gaps(campus: Any, warden_a: Any, warden_b: Any) -> None:
    feed("RM-A-101", 0.25, count=1)
    start, end = T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1)
    assert meter_gaps_for_user(user=warden_b, meter_id=campus.meter_a.id, start=start, end=end) is None
    assert meter_gaps_for_user(user=warden_a, meter_id=campus.meter_a.id, start=start, end=end) == []
