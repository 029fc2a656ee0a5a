"""List endpoints make a fixed number of queries, however many rows a page holds."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.tests.factories import CustomerFactory, TransformerFactory
from meters.models import Occupancy
from meters.tests.factories import MeterFactory, RoomFactory
from tests.api.conftest import T0, Estate, api_for

pytestmark = pytest.mark.django_db

LISTS = ["sites", "hostels", "rooms", "meters", "weather", "occupancy", "customers", "tariffs", "transformers"]


def grow(estate: Estate, rooms: int) -> None:
    hostel = estate.campus.hostel_a
    for _ in range(rooms):
        room = RoomFactory.create(hostel=hostel, customer=CustomerFactory.create())
        MeterFactory.create(room=room, transformer=TransformerFactory.create())
        Occupancy.objects.create(room=room, start=T0, occupants=1)


def queries(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200, path
    return len(captured)


@pytest.mark.parametrize("name", LISTS)
def test_list_query_count_does_not_grow_with_rows(estate: Estate, manager: Any, name: str) -> None:
    client = api_for(manager)
    path = f"/api/v1/{name}"
    client.get(path)  # the role is looked up once per user object
    grow(estate, 2)
    few = queries(client, path)
    grow(estate, 10)
    assert queries(client, path) == few
    assert few <= 6


@pytest.mark.parametrize("resolution", ["raw", "hourly", "daily"])
def test_readings_series_is_a_handful_of_queries(estate: Estate, manager: Any, resolution: str) -> None:
    path = (
        f"/api/v1/rooms/{estate.campus.room_a.pk}/readings?resolution={resolution}"
        "&start=2025-01-10T00:00:00Z&end=2025-01-12T00:00:00Z"
    )
    assert queries(api_for(manager), path) <= 4


def test_analytics_query_counts_are_bounded(estate: Estate, manager: Any) -> None:
    client = api_for(manager)
    grow(estate, 5)
    assert queries(client, "/api/v1/analytics/grid-health") <= 8
    # + the period's kg CO2, + grid health's latest hour of the meters outside any hostel (those of hostels come
    # from the hostel rollups: one query, where asking every meter was one query too, but a slow one).
    assert queries(client, "/api/v1/analytics/overview") <= 8 + 2
    # + the weather normalization: one weather query a site, and the year's fit (rollups, occupancy) when cold.
    assert queries(client, "/api/v1/analytics/hostel-comparison") <= 8 + 3
