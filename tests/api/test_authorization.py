"""Every endpoint for every persona: anonymous, admin, manager, warden_a, warden_b, a gateway key.

Managers and admins see everything; a warden sees their own hostel and gets a 404 for anything of
another hostel (the same answer as for an id that does not exist); gateways may only post readings.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Estate, api_for

pytestmark = pytest.mark.django_db

RANGE = "start=2025-01-10T00:00:00Z&end=2025-01-12T00:00:00Z"


def endpoints(estate: Estate) -> list[tuple[str, str]]:
    """(path, owner): owner is "A" or "B" for one hostel's objects, "*" for lists and analytics."""
    c = estate.campus
    by_hostel = [
        ("hostels/{}", c.hostel_a.pk, c.hostel_b.pk),
        ("rooms/{}", c.room_a.pk, c.room_b.pk),
        ("rooms/{}/readings?" + RANGE, c.room_a.pk, c.room_b.pk),
        ("rooms/{}/readings?resolution=hourly&" + RANGE, c.room_a.pk, c.room_b.pk),
        ("meters/{}", c.meter_a.pk, c.meter_b.pk),
        ("meters/{}/readings?" + RANGE, c.meter_a.pk, c.meter_b.pk),
        ("meters/{}/readings?resolution=daily&" + RANGE, c.meter_a.pk, c.meter_b.pk),
        ("occupancy/{}", estate.occupancy_a.pk, estate.occupancy_b.pk),
        ("customers/{}", estate.customer_a.pk, estate.customer_b.pk),
        ("transformers/{}", estate.transformer_a.pk, estate.transformer_b.pk),
        ("forecasts/{}", estate.forecast_a.pk, estate.forecast_b.pk),
        ("transformer-risks/{}", estate.risk_a.pk, estate.risk_b.pk),
        ("anomalies/{}", estate.anomaly_a.pk, estate.anomaly_b.pk),
    ]
    paths = [(f"/api/v1/{p.format(a)}", "A") for p, a, _ in by_hostel]
    paths += [(f"/api/v1/{p.format(b)}", "B") for p, _, b in by_hostel]
    lists = ["sites", "hostels", "rooms", "meters", "weather", "occupancy", "customers", "tariffs", "transformers"]
    lists += ["alerts", "analytics/overview", "analytics/grid-health", "analytics/hostel-comparison"]
    lists += ["forecasts", "segments", "transformer-risks", "anomalies", "analytics/kpis?days=7"]
    paths += [(f"/api/v1/{name}", "*") for name in lists]
    paths += [(f"/api/v1/sites/{c.hostel_a.site_id}", "*"), (f"/api/v1/tariffs/{estate.customer_a.tariff_id}", "*")]
    return paths


def test_anonymous_callers_get_401_everywhere_but_health(estate: Estate) -> None:
    client = api_for()
    for path, _ in endpoints(estate):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "not_authenticated"
    assert client.get("/api/v1/health").status_code in (200, 503)


def test_gateway_keys_cannot_read_anything(estate: Estate) -> None:
    # A gateway key is a credential for the batch endpoint only; elsewhere it authenticates nobody.
    client = api_for(gateway_key=estate.gateway_key)
    for path, _ in endpoints(estate):
        assert client.get(path).status_code == 401, path


def test_user_without_a_role_is_refused_everywhere(estate: Estate, nobody: Any) -> None:
    client = api_for(nobody)
    for path, _ in endpoints(estate):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("persona", ["admin", "manager"])
def test_admin_and_manager_read_every_endpoint(estate: Estate, persona: str, request: Any) -> None:
    client = api_for(request.getfixturevalue(persona))
    for path, _ in endpoints(estate):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(("persona", "own", "other"), [("warden_a", "A", "B"), ("warden_b", "B", "A")])
def test_warden_reads_own_hostel_and_gets_404_for_the_other(
    estate: Estate, persona: str, own: str, other: str, request: Any
) -> None:
    client = api_for(request.getfixturevalue(persona))
    for path, owner in endpoints(estate):
        response = client.get(path)
        expected = 404 if owner == other else 200
        assert response.status_code == expected, path
        if expected == 404:
            assert response.json()["error"]["code"] == "not_found"


def test_warden_lists_hold_only_their_hostels_rows(estate: Estate, warden_a: Any) -> None:
    c = estate.campus
    client = api_for(warden_a)
    ids = {
        name: {row["id"] for row in client.get(f"/api/v1/{name}").json()["results"]}
        for name in ["hostels", "rooms", "meters", "occupancy", "customers", "transformers"]
    }
    assert ids == {
        "hostels": {c.hostel_a.pk},
        "rooms": {c.room_a.pk},
        "meters": {c.meter_a.pk},
        "occupancy": {estate.occupancy_a.pk},
        "customers": {estate.customer_a.pk},
        "transformers": {estate.transformer_a.pk},
    }
    comparison = client.get("/api/v1/analytics/hostel-comparison").json()
    assert [row["id"] for row in comparison] == [c.hostel_a.pk]
    daily = client.get("/api/v1/analytics/overview?start=2025-01-01&end=2025-01-02").json()["daily"]
    assert {row["hostel"] for row in daily} <= {"Hostel A"}


def test_a_filter_naming_another_hostel_finds_nothing(estate: Estate, warden_a: Any) -> None:
    body = api_for(warden_a).get(f"/api/v1/rooms?hostel={estate.campus.hostel_b.pk}").json()
    assert body["count"] == 0


def test_occupancy_is_written_by_managers_only(estate: Estate, manager: Any, warden_a: Any, admin: Any) -> None:
    body = {"room": estate.campus.room_a.pk, "start": "2025-02-01T00:00:00+01:00", "occupants": 4}
    assert api_for().post("/api/v1/occupancy", body, format="json").status_code == 401
    assert api_for(warden_a).post("/api/v1/occupancy", body, format="json").status_code == 403
    assert api_for(gateway_key=estate.gateway_key).post("/api/v1/occupancy", body, format="json").status_code == 401
    response = api_for(manager).post("/api/v1/occupancy", body, format="json")
    assert response.status_code == 201
    assert response.json()["start"] == "2025-01-31T23:00:00Z"
    estate.occupancy_a.refresh_from_db()
    assert estate.occupancy_a.end is not None  # the open period was closed where the new one starts
    body["start"] = "2025-03-01T00:00:00Z"
    assert api_for(admin).post("/api/v1/occupancy", body, format="json").status_code == 201


def test_gateway_posts_only_to_its_own_meters(estate: Estate) -> None:
    rows = [{"meter": serial, "timestamp": "2025-02-01T00:00:00Z", "kwh": 0.2} for serial in ("RM-A-101", "RM-B-101")]
    body = api_for(gateway_key=estate.gateway_key).post("/api/v1/readings/batch", rows, format="json").json()
    assert (body["accepted"], body["rejected"]) == (1, 1)


def test_model_versions_are_for_managers_and_admins(estate: Estate, admin: Any, manager: Any, warden_a: Any) -> None:
    assert api_for().get("/api/v1/model-versions").status_code == 401
    assert api_for(warden_a).get("/api/v1/model-versions").status_code == 403
    for user in (admin, manager):
        body = api_for(user).get("/api/v1/model-versions?family=forecast").json()
        assert body["results"][0]["metrics"] == {"cv_rmse": 0.2}


def test_warden_sees_only_own_hostels_forecasts_and_risks(estate: Estate, warden_a: Any) -> None:
    client = api_for(warden_a)
    assert [row["id"] for row in client.get("/api/v1/forecasts").json()["results"]] == [estate.forecast_a.pk]
    risks = client.get("/api/v1/transformer-risks").json()["results"]
    assert [row["transformer_code"] for row in risks] == ["TX-A"]


def test_detection_runs_on_demand_for_visible_meters_only(estate: Estate, manager: Any, warden_a: Any) -> None:
    c = estate.campus
    body = {"meters": [c.meter_a.pk], "start": "2025-01-10T00:00:00Z", "end": "2025-01-11T00:00:00Z"}
    assert api_for().post("/api/v1/detection/run", body, format="json").status_code == 401
    queued = api_for(warden_a).post("/api/v1/detection/run", body, format="json")
    assert queued.status_code == 202
    assert queued.json()["meters"] == 1
    other = {**body, "meters": [c.meter_a.pk, c.meter_b.pk]}
    refused = api_for(warden_a).post("/api/v1/detection/run", other, format="json")
    assert refused.status_code == 400
    assert "meters" in refused.json()["error"]["fields"]
    assert api_for(manager).post("/api/v1/detection/run", other, format="json").status_code == 202


def test_kpis_count_only_the_wardens_hostel(estate: Estate, manager: Any, warden_a: Any) -> None:
    assert api_for(manager).get("/api/v1/analytics/kpis?days=3650").json()["anomalies"] == 2
    assert api_for(warden_a).get("/api/v1/analytics/kpis?days=3650").json()["anomalies"] == 1
