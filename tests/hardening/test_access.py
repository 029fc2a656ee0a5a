"""Hostile access, round two: development keys, gateway scope, quarantine senders, assigning."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from alerts.models import Alert
from alerts.services import alert_raise
from conftest import Campus, client_for
from customers.models import Transformer, TransformerCondition
from customers.tests.factories import TransformerFactory
from meters.ingest import quarantine_reprocess
from meters.models import GatewayToken, Meter, QuarantinedReading, Reading
from meters.services import gateway_token_create

ROOT = Path(__file__).resolve().parents[2]


def _secret_key_of_installation(data_dir: Path) -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "1",
        "WATTWATCH_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    out = subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            "-c",
            "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_a_development_server_signs_with_its_own_random_key_kept_in_the_data_folder(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    key = _secret_key_of_installation(first)
    assert len(key) >= 50
    assert "insecure" not in key
    assert key != _secret_key_of_installation(second), "two installations must not share a key"
    assert _secret_key_of_installation(first) == key, "later runs read the same key"
    path = first / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [name for name in os.listdir(first) if name.startswith(".secret_key.")], "no temporary file left"


def test_no_fixed_development_key_is_left_in_the_settings() -> None:
    assert "django-insecure" not in (ROOT / "config/settings.py").read_text()


CONDITION_URL = "/api/v1/transformer-condition/batch"
READINGS_URL = "/api/v1/readings/batch"


def _post(url: str, body: object, key: str) -> Any:
    return Client().post(
        url, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Gateway {key}"
    )


def _condition(code: str, hour: int = 15) -> dict[str, object]:
    return {"transformer": code, "measured_at": f"2025-06-01T{hour:02d}:00:00Z", "top_oil_c": 120.0}


@pytest.fixture
def transformers(campus: Campus) -> tuple[Transformer, Transformer]:
    tx_a, tx_b = TransformerFactory.create(code="TX-A"), TransformerFactory.create(code="TX-B")
    Meter.objects.filter(pk=campus.meter_a.pk).update(transformer=tx_a)
    Meter.objects.filter(pk=campus.meter_b.pk).update(transformer=tx_b)
    return tx_a, tx_b


@pytest.mark.django_db
def test_a_gateway_key_writes_only_transformers_that_feed_its_meters(campus: Campus, transformers: Any) -> None:
    _, key = gateway_token_create(name="room meters of A", meter_ids=[campus.meter_a.id])
    body = [_condition("TX-A"), _condition("TX-B"), _condition("TX-NONE")]
    response = _post(CONDITION_URL, body, key)
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (1, 2)
    reasons = {item["transformer"]: item["reason"] for item in data["rejections"]}
    # "Not yours" and "unknown" read the same, so codes cannot be listed.
    assert reasons == {"TX-B": "unknown transformer 'TX-B'", "TX-NONE": "unknown transformer 'TX-NONE'"}
    assert list(TransformerCondition.objects.values_list("transformer__code", flat=True)) == ["TX-A"]
    assert not Alert.objects.filter(title__icontains="TX-B").exists()
    stored = QuarantinedReading.objects.get(raw__transformer="TX-B")
    assert stored.reason.startswith("not permitted")  # the administrator is told why
    assert stored.sender_kind == "gateway"


@pytest.mark.django_db
def test_a_hostel_gateway_key_writes_the_transformers_feeding_its_hostel_only(
    campus: Campus, transformers: Any
) -> None:
    _, key = gateway_token_create(name="hostel A", hostel_id=campus.hostel_a.id)
    data = _post(CONDITION_URL, [_condition("TX-A"), _condition("TX-B")], key).json()
    assert (data["accepted"], data["rejected"]) == (1, 1)
    assert data["rejections"][0]["reason"] == "unknown transformer 'TX-B'"


@pytest.mark.django_db
def test_reprocessing_a_gateways_rows_runs_with_the_gateways_rights_not_as_trusted(campus: Campus, admin: Any) -> None:
    _, key = gateway_token_create(name="room meters of A", meter_ids=[campus.meter_a.id])
    before = list(Reading.objects.filter(meter=campus.meter_b).values_list("timestamp", "kwh"))
    stamp = before[0][0].isoformat()
    response = _post(READINGS_URL, [{"meter": "RM-B-101", "timestamp": stamp, "kwh": 0.99}], key)
    assert response.json()["rejections"][0]["reason"] == "unknown meter 'RM-B-101'"  # same as for no meter
    row = QuarantinedReading.objects.get()
    assert (row.sender_kind, row.sender_gateway_id) == ("gateway", GatewayToken.objects.get().pk)
    assert row.reason.startswith("not permitted")
    changelist = "/admin/meters/quarantinedreading/"
    answer = client_for(admin).post(changelist, {"action": "reprocess", "_selected_action": [row.pk]})
    assert answer.status_code == 302
    row.refresh_from_db()
    assert row.status == "pending"
    assert row.reason.startswith("not permitted")
    assert list(Reading.objects.filter(meter=campus.meter_b).values_list("timestamp", "kwh")) == before


@pytest.mark.django_db
def test_reprocessing_a_revoked_keys_rows_stores_nothing(campus: Campus) -> None:
    token, key = gateway_token_create(name="room meters of A", meter_ids=[campus.meter_a.id])
    _post(READINGS_URL, [{"meter": "RM-A-101", "timestamp": "2025-01-01T00:00:00Z", "kwh": -1}], key)
    row = QuarantinedReading.objects.get()
    row.raw = row.raw | {"kwh": 0.2}  # fixed by the administrator
    row.save()
    GatewayToken.objects.filter(pk=token.pk).update(is_active=False)
    quarantine_reprocess(ids=[row.pk])
    row.refresh_from_db()
    assert row.status == "pending"
    assert not Reading.objects.filter(meter=campus.meter_a, kwh=0.2).exists()
    GatewayToken.objects.filter(pk=token.pk).update(is_active=True)
    quarantine_reprocess(ids=[row.pk])  # with the key's rights back, its own meter is written
    row.refresh_from_db()
    assert row.status == "reprocessed"
    assert Reading.objects.filter(meter=campus.meter_a, kwh=0.2).exists()


@pytest.mark.django_db
def test_reprocessing_a_wardens_rows_keeps_to_her_hostels(campus: Campus, warden_a: Any) -> None:
    stamp = Reading.objects.filter(meter=campus.meter_b).values_list("timestamp", flat=True)[0].isoformat()
    body = [{"meter": "RM-B-101", "timestamp": stamp, "kwh": 0.99}]
    client_for(warden_a).post(READINGS_URL, data=json.dumps(body), content_type="application/json")
    row = QuarantinedReading.objects.get()
    assert (row.sender_kind, row.sender_user_id) == ("user", warden_a.pk)
    quarantine_reprocess(ids=[row.pk])
    row.refresh_from_db()
    assert row.status == "pending"
    assert not Reading.objects.filter(meter=campus.meter_b, kwh=0.99).exists()


@pytest.mark.django_db
def test_reprocessing_a_gateways_condition_rows_keeps_to_its_transformers(campus: Campus, transformers: Any) -> None:
    _, key = gateway_token_create(name="room meters of A", meter_ids=[campus.meter_a.id])
    _post(CONDITION_URL, [_condition("TX-B")], key)
    row = QuarantinedReading.objects.get()
    quarantine_reprocess(ids=[row.pk])
    row.refresh_from_db()
    assert row.status == "pending"
    assert row.reason.startswith("not permitted")
    assert not TransformerCondition.objects.exists()


@pytest.mark.django_db
def test_assigning_to_nobody_by_that_name_and_to_someone_who_cannot_see_the_alert_get_the_same_answer(
    campus: Campus, warden_a: Any, warden_b: Any, manager: Any
) -> None:
    alert = alert_raise(kind="manual", title="Assign probe", hostel=campus.hostel_a)
    client = client_for(warden_a)
    url = f"/api/v1/alerts/{alert.pk}/assign"
    answers = []
    for name in ("warden_b", "no_such_person"):
        response = client.post(url, data=json.dumps({"assignee": name}), content_type="application/json")
        body = response.json()
        answers.append((response.status_code, body["error"]["code"], body["error"]["message"].replace(name, "NAME")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 409
    alert.refresh_from_db()
    assert alert.assigned_to is None  # a warden cannot give it to someone who cannot see it
    done = client.post(url, data=json.dumps({"assignee": "manager"}), content_type="application/json")
    assert done.status_code == 200
    assert done.json()["assigned_to"] == "manager"


@pytest.mark.django_db
def test_the_sender_of_a_quarantined_row_cannot_be_edited_in_the_admin(campus: Campus, admin: Any) -> None:
    from meters.admin import QuarantinedReadingAdmin

    for name in ("sender_kind", "sender_gateway", "sender_user"):
        assert name in QuarantinedReadingAdmin.readonly_fields
