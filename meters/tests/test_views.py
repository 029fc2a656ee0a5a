"""The upload page: managers and admins preview then import; wardens are refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import client_for
from meters.models import Reading

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
    report = client.post(url, {"token": token, "filename": "r.csv"})
    assert report.status_code == 200
    result = report.context["result"]
    assert (result.accepted, result.rejected) == (2, 1)
    assert "negative energy" in report.content.decode()
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
