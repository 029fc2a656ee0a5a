"""The audit trail: imports, exports, alert actions and admin changes, readable by admins only."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from alerts.services import alert_acknowledge, alert_raise
from conftest import client_for
from customers.models import AuditEntry
from meters.services import gateway_token_create
from meters.tests.uploading import confirm

CSV = b"meter,timestamp,kwh\nRM-A-101,2025-02-01T00:00:00Z,0.2\nRM-A-101,2025-02-01T00:15:00Z,-1\n"


def test_import_command_is_audited_with_its_counts(campus: Any, tmp_path: Path) -> None:
    path = tmp_path / "readings.csv"
    path.write_bytes(CSV)
    call_command("import_readings", str(path), "--json", stdout=StringIO())
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor_label == "command import_readings"
    assert entry.target.endswith("readings.csv")
    assert (entry.detail["accepted"], entry.detail["rejected"]) == (1, 1)


def test_upload_page_import_is_audited_under_the_user(manager: Any) -> None:
    client = client_for(manager)
    page = client.post("/meters/upload/", {"file": SimpleUploadedFile("up.csv", CSV)})
    confirm(client, {"token": page.context["token"], "filename": "up.csv"})
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert (entry.actor, entry.target, entry.detail["accepted"]) == (manager, "upload up.csv", 1)


def test_batch_api_import_is_audited_under_the_gateway(campus: Any) -> None:
    _, key = gateway_token_create(name="gw-a", meter_ids=[campus.meter_a.id])
    body = [{"meter": "RM-A-101", "timestamp": "2025-02-01T00:00:00Z", "kwh": 0.2}]
    client_for_gateway = Client()
    client_for_gateway.post(
        "/api/v1/readings/batch", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Gateway {key}"
    )
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor_label == "gateway gw-a"
    assert entry.actor is None


def test_every_csv_export_is_audited(admin: Any) -> None:
    client = client_for(admin)
    client.get("/dashboard/hostels.csv")
    client.get("/system/freshness.csv")
    targets = list(AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).values_list("target", "actor_label"))
    assert len(targets) == 2
    assert {label for _, label in targets} == {"admin"}
    assert any(target == "meter_freshness.csv" for target, _ in targets)


def test_alert_actions_are_audited_and_machine_raises_are_not(campus: Any, warden_a: Any) -> None:
    alert = alert_raise(kind="manual", title="Heater left on", hostel=campus.hostel_a)
    alert_acknowledge(alert=alert, user=warden_a)
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.detail["action"]) == (warden_a, "alert", "acknowledged")
    assert entry.target == f"alert {alert.pk}: Heater left on"


def test_admins_read_the_audit_trail_and_admin_log_but_cannot_edit_them(admin: Any, warden_a: Any) -> None:
    client = client_for(admin)
    client.post("/admin/auth/group/add/", {"name": "auditors"})  # a configuration change, logged by Django's admin
    assert LogEntry.objects.filter(object_repr="auditors").exists()
    entry = AuditEntry.objects.create(actor_label="x", action="import", target="file.csv")
    assert client.get("/admin/customers/auditentry/").status_code == 200
    assert client.get("/admin/admin/logentry/").status_code == 200
    assert b"auditors" in client.get("/admin/admin/logentry/").content
    assert client.get("/admin/customers/auditentry/add/").status_code == 403
    assert client.post(f"/admin/customers/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    assert client_for(warden_a).get("/admin/customers/auditentry/").status_code == 302
