"""POST /api/v1/transformer-condition/batch: who may post, per-item reasons, quarantine and re-processing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from conftest import client_for
from customers.models import AuditEntry, TransformerCondition
from customers.tests.factories import TransformerFactory
from meters.ingest import quarantine_reprocess
from meters.models import Meter, QuarantinedReading
from meters.services import gateway_token_create

URL = "/api/v1/transformer-condition/batch"


def post(client: Client, body: object, **headers: str) -> Any:
    return client.post(URL, data=json.dumps(body), content_type="application/json", headers=headers)


GOOD = [
    {"transformer": "TX-1", "measured_at": "2025-06-01T15:00:00Z", "top_oil_c": 71.5, "dissolved_gas_ppm": 420},
    {"transformer": "TX-1", "measured_at": "2025-06-02T15:00:00+02:00", "top_oil_c": 69.0},
]


@pytest.mark.django_db
def test_manager_posts_readings_bad_items_are_quarantined_with_their_reason(campus: Any, manager: Any) -> None:
    TransformerFactory.create(code="TX-1")
    bad = [
        {"transformer": "TX-9", "measured_at": "2025-06-01T15:00:00Z", "top_oil_c": 60},
        {"transformer": "TX-1", "measured_at": "yesterday", "top_oil_c": 60},
        {"transformer": "TX-1", "measured_at": "2025-06-03T15:00:00", "top_oil_c": 60},
        {"transformer": "TX-1", "measured_at": "2025-06-04T15:00:00Z", "top_oil_c": 900},
        {"transformer": "TX-1", "measured_at": "2025-06-05T15:00:00Z"},
        {"transformer": "TX-1", "measured_at": "2999-01-01T00:00:00Z", "dissolved_gas_ppm": 5},
        {"transformer": "TX-1", "measured_at": "2025-06-06T15:00:00Z", "dissolved_gas_ppm": "lots"},
        "not an object",
    ]
    response = post(client_for(manager), GOOD + bad)
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["updated"], data["unchanged"], data["rejected"]) == (2, 0, 0, 8)
    reasons = [item["reason"] for item in data["rejections"]]
    assert [item["index"] for item in data["rejections"]] == list(range(2, 10))
    assert reasons[0] == "unknown transformer 'TX-9'"
    assert "not an ISO 8601 date-time" in reasons[1]
    assert "UTC offset" in reasons[2]
    assert reasons[3] == "top_oil_c 900 is outside -50 to 200"
    assert reasons[4] == "give top_oil_c, dissolved_gas_ppm or both"
    assert "in the future" in reasons[5]
    assert "must be a number" in reasons[6]
    assert reasons[7] == "expected an object"
    stored = TransformerCondition.objects.order_by("measured_at")
    assert [(r.top_oil_c, r.dissolved_gas_ppm) for r in stored] == [(71.5, 420.0), (69.0, None)]
    assert stored[1].measured_at.isoformat() == "2025-06-02T13:00:00+00:00"
    quarantined = QuarantinedReading.objects.filter(source__startswith="transformer condition")
    assert quarantined.count() == 8
    assert AuditEntry.objects.filter(target="transformer condition batch of 10").exists()
    again = post(client_for(manager), GOOD).json()
    assert (again["accepted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    twice = post(client_for(manager), [GOOD[0] | {"top_oil_c": 74.0}, GOOD[0] | {"top_oil_c": 74.5}]).json()
    assert (twice["updated"], twice["duplicates"]) == (1, 1)  # the last one wins
    changed = post(client_for(manager), [GOOD[0] | {"top_oil_c": 75.0}]).json()
    assert TransformerCondition.objects.filter(top_oil_c=75.0).exists()
    assert (changed["accepted"], changed["updated"]) == (0, 1)
    assert TransformerCondition.objects.get(measured_at="2025-06-01T15:00:00Z").top_oil_c == 75.0


@pytest.mark.django_db
def test_a_fixed_quarantined_item_is_re_processed_into_a_reading(campus: Any, manager: Any) -> None:
    TransformerFactory.create(code="TX-1")
    post(client_for(manager), [{"transformer": "TX-2", "measured_at": "2025-06-01T15:00:00Z", "top_oil_c": 60}])
    item = QuarantinedReading.objects.get()
    quarantine_reprocess(ids=[item.id])  # still unknown: it stays, with its reason
    item.refresh_from_db()
    assert (item.status, item.reason) == ("pending", "unknown transformer 'TX-2'")
    TransformerFactory.create(code="TX-2")
    quarantine_reprocess(ids=[item.id])
    item.refresh_from_db()
    assert item.status == "reprocessed"
    assert TransformerCondition.objects.get().transformer.code == "TX-2"


@pytest.mark.django_db
def test_only_gateways_managers_and_admins_may_post(campus: Any, warden_a: Any, admin: Any) -> None:
    transformer = TransformerFactory.create(code="TX-1")
    assert post(Client(), GOOD).status_code in (401, 403)
    assert post(client_for(warden_a), GOOD).status_code == 403
    assert not TransformerCondition.objects.exists()
    # A gateway writes the transformers feeding its meters (tests/hardening/test_access.py).
    Meter.objects.filter(pk=campus.meter_a.pk).update(transformer=transformer)
    _, key = gateway_token_create(name="tx-monitor", meter_ids=[campus.meter_a.pk])
    assert post(Client(), GOOD, Authorization=f"Gateway {key}").json()["accepted"] == 2
    assert TransformerCondition.objects.get(measured_at="2025-06-01T15:00:00Z").source == "gateway tx-monitor"
    assert post(client_for(admin), [GOOD[0] | {"top_oil_c": 80}]).json()["updated"] == 1


@pytest.mark.django_db
def test_a_body_that_is_not_a_list_is_refused_whole(campus: Any, manager: Any) -> None:
    for body in ({"transformer": "TX-1"}, [], [GOOD[0]] * 10_001):
        response = post(client_for(manager), body)
        assert response.status_code == 400
        assert "list" in response.content.decode() or "At most" in response.content.decode()


@pytest.mark.django_db
def test_nul_characters_are_refused_and_quarantined_not_a_server_error(campus: Any, manager: Any) -> None:
    # PostgreSQL text and jsonb cannot hold NUL: found by the fuzz test on PostgreSQL.
    TransformerFactory.create(code="TX-1")
    body = [
        {"transformer": "TX\x00", "measured_at": "2025-06-01T15:00:00Z", "top_oil_c": 60},
        {"\x00": None},
        {"transformer": "TX-1", "measured_at": "2025-13-01T15:00:00Z", "top_oil_c": 60},
    ]
    response = post(client_for(manager), body)
    assert response.status_code == 200
    reasons = [item["reason"] for item in response.json()["rejections"]]
    assert reasons[0] == "unknown transformer 'TX\\x00'"
    assert reasons[1] == "unknown field '\\x00'"
    assert "not an ISO 8601 date-time" in reasons[2]
    assert QuarantinedReading.objects.filter(source__startswith="transformer condition").count() == 3


@pytest.mark.django_db
def test_condition_readings_are_listed_only_for_transformers_feeding_the_wardens_hostels(
    campus: Any, manager: Any, warden_a: Any
) -> None:
    tx_a, tx_b = TransformerFactory.create(code="TX-1"), TransformerFactory.create(code="TX-2")
    campus.meter_a.transformer, campus.meter_b.transformer = tx_a, tx_b
    campus.meter_a.save()
    campus.meter_b.save()
    post(client_for(manager), [GOOD[0], GOOD[0] | {"transformer": "TX-2"}])
    everything = client_for(manager).get("/api/v1/transformer-conditions").json()["results"]
    assert sorted(row["transformer"] for row in everything) == sorted([tx_a.pk, tx_b.pk])
    mine = client_for(warden_a).get("/api/v1/transformer-conditions").json()["results"]
    assert [(row["transformer"], row["top_oil_c"]) for row in mine] == [(tx_a.pk, 71.5)]
    other = TransformerCondition.objects.get(transformer=tx_b).pk
    assert client_for(warden_a).get(f"/api/v1/transformer-conditions/{other}").status_code == 404
    filtered = client_for(manager).get(f"/api/v1/transformer-conditions?transformer={tx_b.pk}").json()["results"]
    assert [row["transformer"] for row in filtered] == [tx_b.pk]
