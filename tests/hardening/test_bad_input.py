"""Bad input, round two: files, batches and query parameters never cost more than their own bad part."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import Campus, client_for
from customers.tests.factories import TransformerFactory
from meters.models import Quality, QuarantinedReading, Reading
from meters.services import gateway_token_create
from meters.tests.uploading import confirm

START = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)


def _csv_lines(count: int, *, bad_at: set[int]) -> bytes:
    """`count` readings of RM-A-101 one per line from line 2; lines in `bad_at` are malformed."""
    lines = [b"meter,timestamp,kwh"]
    for index in range(count):
        line = len(lines) + 1
        stamp = (START + dt.timedelta(minutes=15 * index)).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        lines.append(b"RM-A-101," + stamp + (b',0.1,"extra",9' if line in bad_at else b",0.1"))
    return b"\n".join(lines) + b"\n"


def _upload(client: Client, name: str, body: bytes, timezone: str = "") -> Any:
    return client.post("/meters/upload/", {"file": SimpleUploadedFile(name, body), "timezone": timezone})


def _confirm(client: Client, preview: Any) -> Any:
    token = preview.context["token"]
    return confirm(client, {"token": token, "filename": "readings.csv", "timezone": ""})


@pytest.mark.django_db
def test_a_malformed_csv_line_is_one_quarantined_row_with_its_line_number_and_the_rest_are_imported(
    campus: Campus, manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks, so the file spans many, as a file past 4 MB spans 4 MB blocks.
    monkeypatch.setattr("meters.ingest.parse.CSV_BLOCK_BYTES", 4096)
    bad = {3, 900, 1999}
    body = _csv_lines(2000, bad_at=bad)
    client = client_for(manager)
    raw = Reading.objects.filter(meter=campus.meter_a, quality=Quality.RAW)  # the gaps left are estimated
    before = raw.count()
    preview = _upload(client, "readings.csv", body)
    assert preview.status_code == 200, preview.content.decode()[:500]
    assert "Malformed line" in preview.content.decode()  # line 3 is among the first rows shown
    report = _confirm(client, preview)
    assert report.status_code == 200
    result = report.context["result"]
    assert (result.accepted, result.rejected) == (2000 - len(bad), len(bad))
    assert raw.count() == before + 2000 - len(bad)
    rows = QuarantinedReading.objects.order_by("row_number")
    assert [row.row_number for row in rows] == sorted(bad)
    assert all(row.reason.startswith("malformed line: line has 5 fields, expected 3") for row in rows)
    # Every good line kept its own line number: the lines around the bad ones are stored.
    stored = set(raw.values_list("timestamp", flat=True))
    for line in (2, 4, 899, 901, 1998, 2000, 2001):
        assert START + dt.timedelta(minutes=15 * (line - 2)) in stored, line


@pytest.mark.django_db
def test_bytes_that_are_not_utf8_cost_only_their_own_row(campus: Campus, manager: Any) -> None:
    body = _csv_lines(3, bad_at=set()).replace(
        b"RM-A-101,2025-02-01T00:15:00Z,0.1", b"RM-A-101,2025-02-01T00:15:00Z,\xff\xfe"
    )
    client = client_for(manager)
    report = _confirm(client, _upload(client, "readings.csv", body))
    result = report.context["result"]
    assert (result.accepted, result.rejected) == (2, 1)
    assert QuarantinedReading.objects.get().row_number == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [bytes(range(256)) * 40, b"\x89PNG\r\n\x1a\n" + bytes(2000), b"", b"\xff\xfe,\xfe\n1,2\n"]
)
def test_a_binary_file_named_csv_gets_a_400_with_a_message(campus: Campus, manager: Any, body: bytes) -> None:
    response = _upload(client_for(manager), "readings.csv", body)
    assert response.status_code == 400
    assert response.context["error"]


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "Europe", "\x00"])
def test_an_unknown_time_zone_gets_a_400_with_a_message_at_preview_and_at_confirm(
    campus: Campus, manager: Any, zone: str
) -> None:
    client = client_for(manager)
    response = _upload(client, "readings.csv", _csv_lines(2, bad_at=set()), timezone=zone)
    assert response.status_code == 400
    assert "time zone" in response.context["error"]
    preview = _upload(client, "readings.csv", _csv_lines(2, bad_at=set()))
    confirm = client.post("/meters/upload/", {"token": preview.context["token"], "filename": "r.csv", "timezone": zone})
    assert confirm.status_code == 400
    assert "time zone" in confirm.context["error"]


def _gateway_post(url: str, text: str, key: str) -> Any:
    return Client().post(url, data=text, content_type="application/json", HTTP_AUTHORIZATION=f"Gateway {key}")


@pytest.mark.django_db
def test_a_nan_or_infinity_literal_costs_only_its_own_row_and_a_boolean_is_not_a_number(campus: Campus) -> None:
    _, key = gateway_token_create(name="room A", meter_ids=[campus.meter_a.id])
    rows = [
        '{"meter": "RM-A-101", "timestamp": "2025-02-01T00:00:00Z", "kwh": 0.1}',
        '{"meter": "RM-A-101", "timestamp": "2025-02-01T00:15:00Z", "kwh": NaN}',
        '{"meter": "RM-A-101", "timestamp": "2025-02-01T00:30:00Z", "kwh": Infinity}',
        '{"meter": "RM-A-101", "timestamp": "2025-02-01T00:45:00Z", "kwh": 0.2, "voltage": -Infinity}',
        '{"meter": "RM-A-101", "timestamp": "2025-02-01T01:00:00Z", "kwh": true}',
        '{"meter": "RM-A-101", "timestamp": "2025-02-01T01:15:00Z", "kwh": false}',
        '{"meter": "RM-A-101", "timestamp": "2025-02-01T01:30:00Z", "kwh": 0.3}',
    ]
    response = _gateway_post("/api/v1/readings/batch", "[" + ",".join(rows) + "]", key)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (2, 5)
    assert [item["index"] for item in data["rejections"]] == [1, 2, 3, 4, 5]
    assert QuarantinedReading.objects.count() == 5
    only_booleans = '[{"meter": "RM-A-101", "timestamp": "2025-02-01T02:00:00Z", "kwh": true}]'
    assert _gateway_post("/api/v1/readings/batch", only_booleans, key).json()["rejected"] == 1


@pytest.mark.django_db
def test_a_nan_literal_in_a_condition_batch_costs_only_its_own_item(campus: Campus, manager: Any) -> None:
    TransformerFactory.create(code="TX-1")
    body = (
        '[{"transformer": "TX-1", "measured_at": "2025-06-01T15:00:00Z", "top_oil_c": NaN},'
        ' {"transformer": "TX-1", "measured_at": "2025-06-01T16:00:00Z", "top_oil_c": 70}]'
    )
    response = client_for(manager).post(
        "/api/v1/transformer-condition/batch", data=body, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["accepted"], response.json()["rejected"]) == (1, 1)


@pytest.mark.django_db
def test_a_malformed_line_past_four_megabytes_costs_only_itself_at_confirm(campus: Campus, manager: Any) -> None:
    """The real block size: 150,000 rows (about 5 MB), one bad line in the second block."""
    from meters.ingest.parse import CSV_BLOCK_BYTES

    # Two meters, 75,000 quarter-hours each from 2024: all in the past, on the grid, after installation.
    start = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    lines = [b"meter,timestamp,kwh"]
    for index in range(150_000):
        stamp = (start + dt.timedelta(minutes=15 * (index // 2))).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        serial = b"RM-A-101" if index % 2 else b"RM-B-101"
        lines.append(serial + b"," + stamp + (b",0.1,9" if len(lines) + 1 == 140_000 else b",0.1"))
    body = b"\n".join(lines) + b"\n"
    assert len(body) > CSV_BLOCK_BYTES
    client = client_for(manager)
    preview = _upload(client, "readings.csv", body)
    assert preview.status_code == 200
    report = _confirm(client, preview)
    assert report.status_code == 200
    result = report.context["result"]
    assert (result.accepted + result.updated + result.unchanged, result.rejected) == (149_999, 1)
    assert QuarantinedReading.objects.get().row_number == 140_000
