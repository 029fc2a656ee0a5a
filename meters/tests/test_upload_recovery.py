"""Issue 29: an upload whose Celery message was lost does not stay "queued" or "importing" forever.

The beat task `meters.tasks.uploads_recover` queues a forgotten upload again and marks an import whose
worker went away as failed, with Retry; an import stores its readings and its "done" in one commit.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from meters.models import Reading, ReadingsUpload
from meters.tests.test_views import _preview
from meters.tests.uploading import confirm


def _queued(client: Any) -> ReadingsUpload:
    """A confirmed upload whose import message never reached a worker."""
    confirm(client, {"token": _preview(client), "filename": "r.csv"}, run=False)
    return ReadingsUpload.objects.get()


def _sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    from celery import Task

    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(Task, "apply_async", lambda task, args=None, kwargs=None, **_: sent.append((task.name, kwargs)))
    return sent


@pytest.mark.django_db
def test_an_upload_still_queued_after_the_setting_is_queued_again_once(
    campus: Any,
    manager: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from meters.tasks import uploads_recover

    settings.UPLOAD_REQUEUE_MINUTES = 30
    upload = _queued(client_for(manager))
    sent = _sent(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        assert uploads_recover() == {"requeued": 0, "failed": 0}  # just queued: its message may be on its way
    ReadingsUpload.objects.filter(pk=upload.pk).update(queued_at=timezone.now() - dt.timedelta(minutes=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert uploads_recover() == {"requeued": 1, "failed": 0}
    assert sent == [("meters.tasks.upload_import", {"upload_id": str(upload.pk)})]
    with django_capture_on_commit_callbacks(execute=True):
        assert uploads_recover() == {"requeued": 0, "failed": 0}  # queued again just now: not twice
    assert len(sent) == 1
    assert ReadingsUpload.objects.get().status == ReadingsUpload.Status.QUEUED


@pytest.mark.django_db
def test_an_import_whose_worker_went_away_is_marked_failed_with_its_reason_and_can_be_retried(
    campus: Any,
    manager: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from meters.tasks import uploads_recover
    from meters.uploads import _beat_key

    settings.UPLOAD_STALL_MINUTES = 20
    client = client_for(manager)
    upload = _queued(client)
    started = timezone.now() - dt.timedelta(minutes=45)
    ReadingsUpload.objects.filter(pk=upload.pk).update(status=ReadingsUpload.Status.IMPORTING, started_at=started)
    cache.set(_beat_key(upload.pk), (timezone.now() - dt.timedelta(minutes=5)).timestamp())
    assert uploads_recover() == {"requeued": 0, "failed": 0}  # progress five minutes ago: still working
    cache.set(_beat_key(upload.pk), (timezone.now() - dt.timedelta(minutes=21)).timestamp())
    assert uploads_recover() == {"requeued": 0, "failed": 1}
    upload.refresh_from_db()
    assert upload.status == ReadingsUpload.Status.FAILED
    assert upload.error.startswith("The import stopped: it reported no progress for 20 minutes")
    assert "nothing was stored" in upload.error
    page = client.get(reverse("readings-upload-status", args=[upload.pk])).content.decode()
    assert "Retry the import" in page
    sent = _sent(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("readings-upload-status", args=[upload.pk])).status_code == 302
    assert sent == [("meters.tasks.upload_import", {"upload_id": str(upload.pk)})]
    assert ReadingsUpload.objects.get().status == ReadingsUpload.Status.QUEUED


@pytest.mark.django_db
def test_an_import_that_breaks_after_storing_its_readings_stores_nothing_and_is_not_left_importing(
    campus: Any, manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its readings and its "done" commit together: a worker dying between the two cannot leave an upload
    "importing" with its readings stored (which would make "nothing was stored" untrue)."""

    def audit_fails(**_: Any) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("meters.uploads.audit_record", audit_fails)
    before = Reading.objects.count()
    confirm(client_for(manager), {"token": _preview(client_for(manager)), "filename": "r.csv"})
    upload = ReadingsUpload.objects.get()
    assert upload.status == ReadingsUpload.Status.FAILED
    assert "nothing was stored" in upload.error
    assert Reading.objects.count() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_running_import_that_holds_its_upload_is_not_marked_failed_however_slow(
    campus: Any, manager: Any, settings: Any
) -> None:
    from django.db import connection, transaction

    from meters.tasks import uploads_recover

    settings.UPLOAD_STALL_MINUTES = 1
    # Made directly: confirming would run the import eagerly at once (no test transaction holds the callbacks).
    upload = ReadingsUpload.objects.create(
        user=manager,
        filename="r.csv",
        staged_name="0123456789abcdef0123456789abcdef.csv",
        status=ReadingsUpload.Status.IMPORTING,
        started_at=timezone.now() - dt.timedelta(hours=2),
    )
    holding, release = threading.Event(), threading.Event()

    def running_import() -> None:  # what upload_import's transaction holds while it imports
        try:
            with transaction.atomic():
                list(ReadingsUpload.objects.select_for_update().filter(pk=upload.pk))
                holding.set()
                release.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=running_import)
    thread.start()
    try:
        assert holding.wait(10)
        assert uploads_recover() == {"requeued": 0, "failed": 0}
        assert ReadingsUpload.objects.get().status == ReadingsUpload.Status.IMPORTING
    finally:
        release.set()
        thread.join(20)
    # Its worker gone (the transaction rolled back): now it is marked failed.
    assert uploads_recover() == {"requeued": 0, "failed": 1}
