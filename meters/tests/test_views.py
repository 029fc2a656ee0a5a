"""The upload page: managers and admins preview then import; wardens are refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import client_for
from meters.models import Reading, ReadingsUpload
from meters.tests.uploading import confirm

CSV = b"""meter,timestamp,kwh
RM-A-101,2025-03-01T00:00:00Z,0.2
RM-A-101,2025-03-01T00:15:00Z,-5
RM-B-101,2025-03-01T00:00:00Z,0.3
"""


@pytest.mark.django_db
def test_manager_previews_then_imports_and_sees_per_row_reasons(campus: Any, manager: Any) -> None:
    client = client_for(manager)
    url = reverse("readings-upload")
    assert client.get(url).status_code == 200
    preview = client.post(url, {"file": SimpleUploadedFile("r.csv", CSV, content_type="text/csv")})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "First rows of r.csv" in body
    assert "RM-B-101" in body
    assert not Reading.objects.filter(kwh=0.3).exists()
    token = preview.context["token"]
    report = confirm(client, {"token": token, "filename": "r.csv"})
    assert report.status_code == 200
    assert report.context["upload"].status == ReadingsUpload.Status.DONE
    result = report.context["result"]
    assert (result.accepted, result.rejected) == (2, 1)
    assert "negative energy" in report.content.decode()
    assert 'http-equiv="refresh"' not in report.content.decode()  # done: the page stops reloading
    # March 2025 is history: the page says it is scanned in the background and summed up once.
    assert result.history_meters == 2
    assert "scanned for anomalies in the background" in report.content.decode()
    assert "an administrator can fix and re-process them" in report.content.decode()
    # The staged file is gone: confirming twice cannot import twice.
    assert "expired" in client.post(url, {"token": token, "filename": "r.csv"}).content.decode()


@pytest.mark.django_db
def test_upload_page_is_linked_for_managers_and_not_for_wardens(campus: Any, manager: Any, warden_a: Any) -> None:
    link = reverse("readings-upload")
    assert link in client_for(manager).get(reverse("home")).content.decode()
    assert link not in client_for(warden_a).get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_wardens_cannot_use_the_upload_page(campus: Any, warden_a: Any) -> None:
    client = client_for(warden_a)
    url = reverse("readings-upload")
    assert client.get(url).status_code == 403
    response = client.post(url, {"file": SimpleUploadedFile("r.csv", CSV, content_type="text/csv")})
    assert response.status_code == 403
    assert not Reading.objects.filter(kwh=0.3).exists()


@pytest.mark.django_db
def test_a_file_without_reading_columns_is_explained(campus: Any, admin: Any) -> None:
    response = client_for(admin).post(
        reverse("readings-upload"), {"file": SimpleUploadedFile("r.csv", b"a,b\n1,2\n", content_type="text/csv")}
    )
    assert "missing column" in response.content.decode()


def _preview(client: Any, body: bytes = CSV) -> str:
    response = client.post(
        reverse("readings-upload"), {"file": SimpleUploadedFile("r.csv", body, content_type="text/csv")}
    )
    assert response.status_code == 200
    return str(response.context["token"])


@pytest.mark.django_db
def test_confirming_queues_the_import_on_the_imports_queue_and_redirects_to_a_status_page(
    campus: Any, manager: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery import Task

    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(Task, "apply_async", lambda task, args=None, kwargs=None, **_: sent.append((task.name, kwargs)))
    client = client_for(manager)
    token = _preview(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("readings-upload"), {"token": token, "filename": "r.csv"})
    upload = ReadingsUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("readings-upload-status", args=[upload.pk])
    assert sent == [("meters.tasks.upload_import", {"upload_id": str(upload.pk)})]
    # Nothing is stored by the request itself; the page says it is queued and reloads itself.
    assert not Reading.objects.filter(kwh=0.3).exists()
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-upload-status="queued"' in body
    assert 'http-equiv="refresh"' in body


@pytest.mark.django_db
def test_the_status_page_shows_rows_done_while_importing(campus: Any, manager: Any) -> None:
    from django.core.cache import cache

    from meters.uploads import _progress_key

    client = client_for(manager)
    token = _preview(client)
    confirm(client, {"token": token, "filename": "r.csv"}, run=False)
    upload = ReadingsUpload.objects.get()
    upload.status, upload.rows_total = ReadingsUpload.Status.IMPORTING, 3
    upload.save()
    cache.set(_progress_key(upload.pk), 2)
    body = client.get(reverse("readings-upload-status", args=[upload.pk])).content.decode()
    assert "2 of about 3 rows read (67 %)" in body
    assert 'http-equiv="refresh"' in body


@pytest.mark.django_db
def test_only_the_uploader_and_admins_see_an_upload(
    campus: Any, manager: Any, admin: Any, warden_a: Any, warden_b: Any
) -> None:
    from django.contrib.auth.models import Group

    from conftest import _user
    from core.roles import MANAGER_GROUP

    client = client_for(manager)
    confirm(client, {"token": _preview(client), "filename": "r.csv"})
    url = reverse("readings-upload-status", args=[ReadingsUpload.objects.get().pk])
    assert client.get(url).status_code == 200
    as_admin = client_for(admin).get(url)
    assert as_admin.status_code == 200
    assert "/admin/meters/quarantinedreading/?q=upload%20r.csv" in as_admin.content.decode()
    other = _user("other_manager", group=MANAGER_GROUP)
    assert Group.objects.get(name=MANAGER_GROUP).user_set.filter(pk=other.pk).exists()
    for user in (warden_a, warden_b, other):
        response = client_for(user).get(url)
        assert response.status_code == 404, user
        assert "r.csv" not in response.content.decode()
        assert client_for(user).post(url).status_code == 404
    assert (
        client_for(manager)
        .get(reverse("readings-upload-status", args=["00000000-0000-0000-0000-000000000000"]))
        .status_code
        == 404
    )


@pytest.mark.django_db
def test_a_failed_import_stores_nothing_says_why_and_can_be_retried(
    campus: Any, manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meters.ingest import upsert

    real = upsert.readings_upsert
    calls = {"n": 0}

    def broken(**kwargs: Any) -> Any:
        calls["n"] += 1
        real(**kwargs)  # the rows are written, then the import breaks: all rolled back
        raise RuntimeError("disk full")

    monkeypatch.setattr("meters.ingest.service.readings_upsert", broken)
    client = client_for(manager)
    before = Reading.objects.count()
    page = confirm(client, {"token": _preview(client), "filename": "r.csv"})
    upload = ReadingsUpload.objects.get()
    assert upload.status == ReadingsUpload.Status.FAILED
    assert "disk full" in upload.error
    assert "disk full" in page.content.decode()
    assert 'http-equiv="refresh"' not in page.content.decode()
    assert Reading.objects.count() == before
    assert calls["n"] == 1
    # Fixed: the retry imports the same staged file.
    monkeypatch.setattr("meters.ingest.service.readings_upsert", real)
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            retried = client.post(reverse("readings-upload-status", args=[upload.pk]))
        assert retried.status_code == 302
        for callback in callbacks[:1]:
            callback()
    finally:
        app.conf.task_always_eager = False
    upload.refresh_from_db()
    assert upload.status == ReadingsUpload.Status.DONE
    assert upload.attempts == 2
    assert upload.result is not None
    assert (upload.result["summary"]["accepted"], upload.result["summary"]["rejected"]) == (2, 1)
    assert Reading.objects.filter(kwh=0.3).exists()
    # Done: a retry is refused and imports nothing twice.
    assert client.post(reverse("readings-upload-status", args=[upload.pk])).status_code == 400
