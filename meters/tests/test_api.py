"""POST /api/v1/readings/batch: gateways, roles, scoping and malformed bodies."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from conftest import client_for
from meters.models import Reading
from meters.services import gateway_token_create

URL = "/api/v1/readings/batch"
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def items(serial: str, count: int = 2, kwh: float = 0.2) -> list[dict[str, Any]]:
    return [
        {"meter": serial, "timestamp": (T0 + dt.timedelta(minutes=15 * k)).isoformat(), "kwh": kwh}
        for k in range(count)
    ]


def post(client: Client, body: object, **headers: str) -> Any:
    return client.post(URL, data=json.dumps(body), content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_manager_posts_a_batch_and_gets_counts_and_reasons(campus: Any, manager: Any) -> None:
    body = [*items("RM-A-101"), {"meter": "RM-A-101", "timestamp": "2025-03-01T01:00:00Z", "kwh": -1}]
    response = post(client_for(manager), body)
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["updated"], data["rejected"]) == (2, 0, 1)
    assert data["rejections"] == [{"index": 2, "meter": "RM-A-101", "reason": "negative energy"}]
    again = post(client_for(manager), body).json()
    assert (again["accepted"], again["updated"], again["unchanged"]) == (0, 0, 2)


@pytest.mark.django_db
def test_warden_cannot_upload_to_another_hostels_meters(campus: Any, warden_a: Any) -> None:
    response = post(client_for(warden_a), items("RM-A-101") + items("RM-B-101"))
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (2, 2)
    # The same words as for a meter that does not exist: nothing leaks about Hostel B.
    assert {item["reason"] for item in data["rejections"]} == {"unknown meter 'RM-B-101'"}
    assert not Reading.objects.filter(meter=campus.meter_b, timestamp__gte=T0).exists()


@pytest.mark.django_db
def test_gateway_token_writes_only_its_own_meters(campus: Any) -> None:
    _, key = gateway_token_create(name="gw-a", meter_ids=[campus.meter_a.id])
    response = post(Client(), items("RM-A-101") + items("RM-B-101"), Authorization=f"Gateway {key}")
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (2, 2)
    assert not Reading.objects.filter(meter=campus.meter_b, timestamp__gte=T0).exists()


@pytest.mark.django_db
def test_gateway_token_for_a_hostel_writes_that_hostels_meters(campus: Any) -> None:
    _, key = gateway_token_create(name="gw-b", hostel_id=campus.hostel_b.id)
    data = post(Client(), items("RM-B-101") + items("RM-A-101"), Authorization=f"Gateway {key}").json()
    assert (data["accepted"], data["rejected"]) == (2, 2)


@pytest.mark.django_db
def test_expired_or_unknown_gateway_keys_are_refused(campus: Any) -> None:
    _, key = gateway_token_create(
        name="old", meter_ids=[campus.meter_a.id], expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    assert post(Client(), items("RM-A-101"), Authorization=f"Gateway {key}").status_code == 401
    assert post(Client(), items("RM-A-101"), Authorization="Gateway nonsense").status_code == 401
    assert post(Client(), items("RM-A-101")).status_code == 401


@pytest.mark.django_db
def test_user_without_a_role_cannot_post(campus: Any, nobody: Any) -> None:
    assert post(client_for(nobody), items("RM-A-101")).status_code == 403


@pytest.mark.django_db
def test_batch_endpoint_answers_400_with_field_level_messages_on_a_malformed_body(campus: Any, manager: Any) -> None:
    client = client_for(manager)
    response = post(client, {"meter": "RM-A-101"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Expected a JSON list of readings.",
            "fields": {"non_field_errors": ["Expected a JSON list of readings."]},
        }
    }
    response = post(client, [{"meter": "RM-A-101", "timestamp": "2025-03-01T00:00:00Z"}, 7])
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "0": {"kwh": ["This field is required."]},
        "1": {"non_field_errors": ["Expected an object."]},
    }
    full = {"meter": "RM-A-101", "timestamp": "2025-03-01T00:00:00Z", "kwh": 1, "voltage": 230, "power_factor": 0.9}
    response = post(client, [full, {**full, "colour": "red"}, {"kwh": 1, "timestamp": "t", "meter": "m"}])
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"1": {"colour": ["Unknown field."]}}
    too_many = [{"meter": "x", "timestamp": "t", "kwh": 1}] * 10_001
    assert post(client, too_many).status_code == 400
    bad_json = client.post(URL, data="[{", content_type="application/json")
    assert bad_json.status_code == 400


@pytest.mark.django_db
def test_gateway_key_is_stored_only_as_a_hash(campus: Any) -> None:
    token, key = gateway_token_create(name="gw", meter_ids=[campus.meter_a.id])
    assert key not in token.key_hash
    assert token.key_prefix == key[:8]
    post(Client(), items("RM-A-101"), Authorization=f"Gateway {key}")
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_a_value_orjson_refuses_is_one_rejected_row_not_a_refused_batch(
    campus: Any, manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.api import parsers

    fast: list[int] = []
    loads = parsers.orjson.loads

    def counted(body: bytes) -> Any:
        fast.append(1)
        return loads(body)

    monkeypatch.setattr(parsers.orjson, "loads", counted)
    client = client_for(manager)
    assert post(client, items("RM-A-101", count=1)).status_code == 200
    assert fast == [1]  # an ordinary body is read by orjson
    good = '{"meter": "RM-A-101", "timestamp": "2025-03-02T00:00:00Z", "kwh": 0.3}'
    huge = '{"meter": "RM-A-101", "timestamp": "2025-03-02T00:15:00Z", "kwh": 1e400}'
    surrogate = '{"meter": "RM-\\ud800", "timestamp": "2025-03-02T00:30:00Z", "kwh": 0.3}'
    response = client.post(URL, data=f"[{good}, {huge}, {surrogate}]", content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (1, 2)
    assert [(r["index"], r["reason"]) for r in data["rejections"]] == [
        (1, "kWh missing or not a number"),
        (2, "unknown meter 'RM-\\ud800'"),  # the unpaired surrogate, written out
    ]
    broken = client.post(URL, data='[{"meter": ', content_type="application/json")
    assert broken.status_code == 400
    assert "JSON parse error" in broken.json()["error"]["message"]
    deep = client.post(URL, data="[" * 5000 + "]" * 5000, content_type="application/json")
    assert deep.status_code == 400  # too deep for either parser: said so, not a server error
