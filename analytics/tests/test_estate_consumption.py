"""The estate's consumption (hostel mains, else rooms) with a main meter outside any hostel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from analytics.selectors.overview import (
    DateRange,
    carbon_kg_for_user,
    daily_consumption_for_user,
    hourly_load_for_user,
)
from meters.ingest import readings_ingest
from meters.models import Meter
from meters.tests.factories import MeterFactory

START = dt.datetime(2025, 3, 28, 12, tzinfo=dt.UTC)
NOW = dt.datetime(2025, 4, 5, tzinfo=dt.UTC)


def _readings(serial: str, kwh: float) -> list[dict[str, Any]]:
    return [
        {"meter": serial, "timestamp": (START + dt.timedelta(minutes=15 * k)).isoformat(), "kwh": kwh}
        for k in range(96)
    ]


@pytest.mark.django_db
def test_a_main_meter_outside_any_hostel_takes_no_hostels_rooms_away(campus: Any, manager: Any) -> None:
    """Hostel A counts its main meter (not its room as well), hostel B its room; the main meter outside any
    hostel is "Other". Its hostel id (NULL) among those "with a main meter" made NOT IN false for every room:
    hostel B's kWh vanished from the daily consumption, the estate's load and its carbon."""
    campus.hostel_a.site.carbon_kg_per_kwh = 0.5
    campus.hostel_a.site.save()
    MeterFactory.create(serial="MAIN-A", kind=Meter.Kind.HOSTEL_MAIN, room=None, hostel=campus.hostel_a)
    MeterFactory.create(serial="LOOSE", kind=Meter.Kind.HOSTEL_MAIN, room=None, hostel=None)
    rows = _readings("RM-A-101", 0.25) + _readings("MAIN-A", 0.5) + _readings("RM-B-101", 0.125)
    readings_ingest(rows=rows + _readings("LOOSE", 1.0), source="test", now=NOW)
    period = DateRange(start=dt.date(2025, 3, 27), end=dt.date(2025, 4, 2))
    totals: dict[str, float] = {}
    for row in daily_consumption_for_user(user=manager, period=period):
        totals[row["hostel"]] = totals.get(row["hostel"], 0.0) + row["kwh"]
    assert totals == {"Hostel A": 48.0, "Hostel B": 12.0, "Other": 96.0}
    load = hourly_load_for_user(user=manager, start=START, end=START + dt.timedelta(days=1))
    assert sum(row["kwh"] for row in load) == 48.0 + 12.0  # the hostels' (the estate's load is by hostel)
    assert carbon_kg_for_user(user=manager, period=period) == pytest.approx(30.0)
