"""Bad input gets a 4xx whose body names the field; times carry their offset."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Estate, api_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=yesterday", "start"),
        ("resolution=weekly", "resolution"),
        ("start=2025-01-12T00:00:00Z&end=2025-01-10T00:00:00Z", "start"),
        ("page_size=abc&cursor=%%%", None),
        ("resolution=daily&start=9999-12-30T00:00:00Z&end=9999-12-31T23:59:59Z", "start"),
    ],
)
def test_bad_series_parameters_are_400_with_the_field_named(
    estate: Estate, manager: Any, query: str, field: str | None
) -> None:
    response = api_for(manager).get(f"/api/v1/meters/{estate.campus.meter_a.pk}/readings?{query}")
    assert response.status_code in ((400,) if field else (200, 404))
    if field:
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert field in error["fields"]
        assert error["message"]


def test_bad_filter_value_is_400_with_the_parameter_named(estate: Estate, manager: Any) -> None:
    response = api_for(manager).get("/api/v1/rooms?hostel=abc")
    assert response.status_code == 400
    assert "hostel" in response.json()["error"]["fields"]


def test_impossible_occupancy_is_400_per_field(estate: Estate, manager: Any) -> None:
    client = api_for(manager)
    room = estate.campus.room_b  # two beds
    crowded = {"room": room.pk, "start": "2025-02-01T00:00:00Z", "occupants": 5}
    assert client.post("/api/v1/occupancy", crowded, format="json").json()["error"]["fields"].keys() == {"occupants"}
    backwards = {"room": room.pk, "start": "2025-02-01T00:00:00Z", "end": "2025-01-01T00:00:00Z", "occupants": 1}
    assert "end" in client.post("/api/v1/occupancy", backwards, format="json").json()["error"]["fields"]
    missing = client.post("/api/v1/occupancy", {"room": 999999}, format="json").json()["error"]["fields"]
    assert {"start", "occupants"} <= missing.keys()
    unknown = {"room": 999999, "start": "2025-02-01T00:00:00Z", "occupants": 1}
    assert client.post("/api/v1/occupancy", unknown, format="json").json()["error"]["fields"] == {
        "room": ["No such room."]
    }


def test_warden_cannot_record_occupancy_even_for_a_room_of_another_hostel(estate: Estate, warden_a: Any) -> None:
    body = {"room": estate.campus.room_b.pk, "start": "2025-02-01T00:00:00Z", "occupants": 1}
    assert api_for(warden_a).post("/api/v1/occupancy", body, format="json").status_code == 403


def test_non_numeric_ids_are_404_not_500(estate: Estate, manager: Any) -> None:
    assert api_for(manager).get("/api/v1/meters/abc").status_code == 404


def test_alert_conflict_uses_the_error_body(estate: Estate, manager: Any) -> None:
    from alerts import services

    alert = services.alert_raise(kind="anomaly", title="x", meter=estate.campus.meter_a)
    client = api_for(manager)
    assert client.post(f"/api/v1/alerts/{alert.pk}/resolve", {}, format="json").status_code == 200
    response = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_times_are_iso_8601_with_an_offset(estate: Estate, manager: Any) -> None:
    meter = api_for(manager).get(f"/api/v1/meters/{estate.campus.meter_a.pk}").json()
    assert meter["installed_at"] == "2024-01-01T00:00:00Z"


def test_a_far_out_offset_in_a_filter_is_compared_in_utc(estate: Estate, manager: Any) -> None:
    # PostgreSQL refuses +20:21 as an offset; the filter converts to UTC first.
    response = api_for(manager).get("/api/v1/forecasts?end=1563-04-05T00:59:08%2B20:21")
    assert response.status_code == 200
    assert api_for(manager).get("/api/v1/weather?start=0001-01-01T00:00:00%2B05:00").status_code == 400
