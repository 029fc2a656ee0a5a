"""Bounded: uploads once decompressed, staged uploads over time, and the quarantine per sender and over time."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from conftest import Campus, client_for
from meters.ingest import readings_ingest
from meters.models import QuarantinedReading, Reading, ReadingsUpload
from meters.services import gateway_token_create
from meters.tests.uploading import confirm


def _parquet(rows: int, *, value_chars: int = 8) -> bytes:
    """A file of `rows` identical readings: run-length encoded, so tiny on disk whatever `rows` is."""
    index = pa.array(np.zeros(rows, dtype=np.int32))
    columns = {
        "meter": pa.DictionaryArray.from_arrays(index, pa.array(["RM-A-101"])),
        "timestamp": pa.DictionaryArray.from_arrays(index, pa.array(["2025-02-01T00:00:00Z"])),
        "kwh": pa.DictionaryArray.from_arrays(index, pa.array(["0." + "1" * value_chars])),
    }
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out, compression="zstd", row_group_size=rows)
    return out.getvalue()


@pytest.mark.django_db
def test_a_small_parquet_file_claiming_millions_of_rows_is_refused_at_preview_before_it_is_read(
    campus: Campus, manager: Any
) -> None:
    body = _parquet(25_000_000)  # 25 million rows, past the default READINGS_UPLOAD_MAX_ROWS
    assert len(body) < 1_000_000
    pool = pa.default_memory_pool()
    before = pool.bytes_allocated()
    started = time.monotonic()
    response = client_for(manager).post("/meters/upload/", {"file": SimpleUploadedFile("bomb.parquet", body)})
    assert response.status_code == 400
    assert "more than 20,000,000 rows" in response.context["error"]
    assert pool.bytes_allocated() - before < 50 * 1024 * 1024
    assert time.monotonic() - started < 10


@pytest.mark.django_db
@override_settings(READINGS_UPLOAD_MAX_DECOMPRESSED_BYTES=2 * 1024 * 1024)
def test_a_parquet_file_that_inflates_past_the_byte_bound_while_read_stores_nothing(
    campus: Campus, manager: Any
) -> None:
    # Few rows by the bound, but each value is long: the metadata looks small, the decoded rows do not.
    body = _parquet(300_000, value_chars=100)
    client = client_for(manager)
    before = Reading.objects.count()
    preview = client.post("/meters/upload/", {"file": SimpleUploadedFile("long.parquet", body)})
    assert preview.status_code == 200  # ten rows are shown
    report = confirm(client, {"token": preview.context["token"], "filename": "long.parquet"})
    assert report.context["upload"].status == ReadingsUpload.Status.FAILED
    assert "once decompressed" in report.context["upload"].error
    assert "once decompressed" in report.content.decode()
    assert Reading.objects.count() == before


@pytest.mark.django_db
def test_staged_uploads_older_than_a_day_are_removed_by_the_beat_task(
    settings: Any, tmp_path: Path, campus: Campus, manager: Any
) -> None:
    from analytics.schedules import schedules
    from meters.tasks import uploads_clean_stale

    settings.DATA_DIR = tmp_path
    client = client_for(manager)
    client.post(
        "/meters/upload/",
        {"file": SimpleUploadedFile("r.csv", b"meter,timestamp,kwh\nRM-A-101,2025-02-01T00:00:00Z,0.1\n")},
    )
    staged = next((tmp_path / "uploads").iterdir())
    fresh = tmp_path / "uploads" / "0123456789abcdef0123456789abcdef.csv"
    fresh.write_bytes(b"x")
    day_ago = time.time() - 25 * 3600
    os.utime(staged, (day_ago, day_ago))
    assert uploads_clean_stale() == {"removed": 1}
    assert not staged.exists()
    assert fresh.exists()
    # A preview past the limit can no longer be confirmed, even before the task runs.
    os.utime(fresh, (day_ago, day_ago))
    late = client.post("/meters/upload/", {"token": fresh.stem, "filename": "r.csv"})
    assert late.status_code == 400
    assert not fresh.exists()
    assert any(item.task == "meters.tasks.uploads_clean_stale" for item in schedules())


@pytest.mark.django_db
def test_a_confirmed_upload_still_queued_keeps_its_file_and_a_done_one_removes_it(
    settings: Any, tmp_path: Path, campus: Campus, manager: Any
) -> None:
    from meters.tasks import upload_import, uploads_clean_stale

    settings.DATA_DIR = tmp_path
    client = client_for(manager)
    body = b"meter,timestamp,kwh\nRM-A-101,2025-02-01T00:00:00Z,0.1\n"
    preview = client.post("/meters/upload/", {"file": SimpleUploadedFile("r.csv", body)})
    confirm(client, {"token": preview.context["token"], "filename": "r.csv"}, run=False)
    staged = next((tmp_path / "uploads").iterdir())
    day_ago = time.time() - 25 * 3600
    os.utime(staged, (day_ago, day_ago))
    assert uploads_clean_stale() == {"removed": 0}  # its import waits in the queue: kept
    upload = ReadingsUpload.objects.get()
    assert upload_import(str(upload.pk)) == {"upload": str(upload.pk), "status": "done"}
    assert not staged.exists()
    # Run again (a redelivered message): nothing happens twice.
    assert upload_import(str(upload.pk))["status"] == "done"
    assert ReadingsUpload.objects.get().attempts == 1


def _junk(count: int, serial: str = "RM-A-101") -> list[dict[str, object]]:
    return [{"meter": serial, "timestamp": "2025-02-01T00:00:00Z", "kwh": "x" * 5000} for _ in range(count)]


@pytest.mark.django_db
def test_the_quarantine_keeps_at_most_the_cap_per_sender_and_bounded_raw_values(
    settings: Any, campus: Campus, manager: Any
) -> None:
    settings.QUARANTINE_MAX_PER_SENDER = 25
    _, key = gateway_token_create(name="junk", meter_ids=[campus.meter_a.id])
    other, other_key = gateway_token_create(name="other", meter_ids=[campus.meter_a.id])
    for _ in range(2):
        response = Client().post(
            "/api/v1/readings/batch",
            data=json.dumps(_junk(20)),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Gateway {key}",
        )
        assert response.json()["rejected"] == 20  # the sender still hears about every row
    mine = QuarantinedReading.objects.filter(sender_kind="gateway").exclude(sender_gateway=other)
    assert mine.count() == 25
    assert all(len(json.dumps(row.raw)) < 1000 for row in mine)
    # Another sender has a cap of its own.
    Client().post(
        "/api/v1/readings/batch",
        data=json.dumps(_junk(3)),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Gateway {other_key}",
    )
    assert QuarantinedReading.objects.filter(sender_gateway=other).count() == 3


@pytest.mark.django_db
def test_quarantined_rows_are_deleted_after_the_retention_period(settings: Any, campus: Campus) -> None:
    from analytics.schedules import schedules
    from meters.tasks import quarantine_prune

    settings.QUARANTINE_RETENTION_DAYS = 30
    readings_ingest(rows=_junk(4), source="old")
    readings_ingest(rows=_junk(2), source="new")
    QuarantinedReading.objects.filter(source="old").update(received_at=timezone.now() - dt.timedelta(days=31))
    assert quarantine_prune() == {"deleted": 4}
    assert set(QuarantinedReading.objects.values_list("source", flat=True)) == {"new"}
    assert any(item.task == "meters.tasks.quarantine_prune" for item in schedules())
