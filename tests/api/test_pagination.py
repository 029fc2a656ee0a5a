"""Paging: cursors over time series and page numbers over lists never repeat or skip a row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from meters.models import Reading
from meters.tests.factories import MeterFactory
from tests.api.conftest import T0, Estate, api_for

pytestmark = pytest.mark.django_db


def test_readings_cursor_pages_are_stable_while_new_readings_arrive(estate: Estate, manager: Any) -> None:
    meter = estate.campus.meter_a
    Reading.objects.bulk_create(
        Reading(meter=meter, timestamp=T0 + dt.timedelta(hours=3, minutes=15 * k), kwh=0.2) for k in range(40)
    )
    expected = list(
        Reading.objects.filter(meter=meter, timestamp__gte=T0, timestamp__lt=T0 + dt.timedelta(days=2))
        .order_by("timestamp")
        .values_list("timestamp", flat=True)
    )
    client = api_for(manager)
    url: str | None = (
        f"/api/v1/meters/{meter.pk}/readings?page_size=7&start=2025-01-10T00:00:00Z&end=2025-01-12T00:00:00Z"
    )
    seen: list[str] = []
    arrivals = 0
    while url:
        body = client.get(url).json()
        seen += [row["start"] for row in body["results"]]
        url = body["next"]
        # A gateway keeps sending while the client pages: newer readings, inside the range.
        Reading.objects.create(meter=meter, timestamp=T0 + dt.timedelta(days=1, minutes=15 * arrivals), kwh=0.3)
        arrivals += 1
    assert len(seen) == len(set(seen))
    as_times = [dt.datetime.fromisoformat(value) for value in seen]
    assert as_times == sorted(as_times)
    assert set(expected) <= set(as_times)  # nothing that existed when paging began was missed


def test_room_readings_resolutions_give_start_and_end_with_offsets(estate: Estate, manager: Any) -> None:
    client = api_for(manager)
    base = f"/api/v1/rooms/{estate.campus.room_a.pk}/readings?start=2025-01-10T00:00:00Z&end=2025-01-12T00:00:00Z"
    raw = client.get(base).json()["results"]
    assert len(raw) == 8
    assert raw[0]["start"] == "2025-01-10T00:00:00Z"
    assert raw[0]["end"] == "2025-01-10T00:15:00Z"
    hourly = client.get(base + "&resolution=hourly").json()["results"]
    assert [row["readings"] for row in hourly] == [4, 4]
    assert hourly[0]["kwh"] == pytest.approx(0.1 + 0.11 + 0.12 + 0.13)
    daily = client.get(base + "&resolution=daily").json()["results"]
    # The site is in Europe/Madrid: a local day starts at local midnight (23:00 UTC in winter).
    assert daily[0]["start"] == "2025-01-09T23:00:00Z"
    assert sum(row["kwh"] for row in daily) == pytest.approx(sum(row["kwh"] for row in raw))


def test_list_pages_ordered_by_a_shared_value_still_cover_every_row_once(estate: Estate, manager: Any) -> None:
    for _ in range(23):
        MeterFactory.create(room=None, hostel=estate.campus.hostel_a, kind="feeder")
    client = api_for(manager)
    url: str | None = "/api/v1/meters?ordering=kind&page_size=5"
    ids: list[int] = []
    while url:
        body = client.get(url).json()
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(ids) == len(set(ids)) == 25
