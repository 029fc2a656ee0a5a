"""The upload page takes what `import_readings` takes: wide files, zeros as missing, and a site to create meters in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from conftest import client_for
from meters.models import Meter, Quality, QuarantinedReading, Reading, ReadingsUpload, Site
from meters.tests.factories import SiteFactory
from meters.tests.uploading import confirm

pytestmark = pytest.mark.django_db

# Two buildings kept in UTC, as the Cambridge archive is: a column each, an empty cell where one has no reading.
WIDE = b"""timestamp,BLD-1,BLD-2
2025-03-01T00:00:00Z,10.5,4.0
2025-03-01T01:00:00Z,11.0,
2025-03-01T02:00:00Z,12.0,4.5
2025-03-01T03:00:00Z,-3,5.0
"""
# A building with solar panels: its readings fall to 0 at midday and rise again (kept); a 0 between two
# ordinary readings is an exporter's gap (skipped).
ZEROS = b"""meter,timestamp,kwh
SOL-1,2025-03-01T09:00:00Z,6
SOL-1,2025-03-01T10:00:00Z,1
SOL-1,2025-03-01T11:00:00Z,0
SOL-1,2025-03-01T12:00:00Z,1
SOL-1,2025-03-01T13:00:00Z,5
SOL-1,2025-03-01T14:00:00Z,0
SOL-1,2025-03-01T15:00:00Z,6
"""


def preview(client: Client, body: bytes, **options: str) -> Any:
    return client.post(
        reverse("readings-upload"), {"file": SimpleUploadedFile("b.csv", body, content_type="text/csv"), **options}
    )


def options_data(page: Any) -> dict[str, str]:
    """The options a preview's own form carries (its hidden fields), as the browser sends them back."""
    options = page.context["options"]
    data = {
        "timezone": options.timezone,
        "layout": "wide" if options.wide else "long",
        "site_code": options.site_code,
        "site_timezone": options.site_timezone,
        "meter_serial": options.meter_serial,
        **{f"{name}_column": column for name, column in options.columns.items()},
    }
    if options.zero_is_missing:
        data["zero_is_missing"] = "on"
    return data


def confirm_preview(client: Client, page: Any) -> Any:
    """Confirm with what the preview's own form carries, as the browser would, and run the import."""
    assert page.status_code == 200, page.content.decode()[:2000]
    return confirm(client, {**options_data(page), "token": page.context["token"], "filename": page.context["filename"]})


def test_a_wide_file_of_unknown_buildings_creates_its_site_in_local_time_and_its_meters(admin: Any) -> None:
    client = client_for(admin)
    page = preview(client, WIDE, layout="wide", site_code="campus-x", site_timezone="Europe/London")
    body = page.content.decode()
    assert page.context["unknown"] == ["BLD-1", "BLD-2"]
    assert "2 meters in these rows are not known yet: BLD-1, BLD-2" in body
    assert "a new site whose local time is Europe/London" in body
    assert not Site.objects.filter(code="campus-x").exists()  # nothing is created before the import runs

    report = confirm_preview(client, page)

    upload = ReadingsUpload.objects.get()
    assert upload.status == ReadingsUpload.Status.DONE, upload.error
    assert (upload.wide, upload.site_code, upload.site_timezone) == (True, "campus-x", "Europe/London")
    site = Site.objects.get(code="campus-x")
    assert site.timezone == "Europe/London"
    meters = {meter.serial: meter for meter in Meter.objects.filter(hostel__site=site)}
    assert sorted(meters) == ["BLD-1", "BLD-2"]
    assert {meter.kind for meter in meters.values()} == {Meter.Kind.FEEDER}
    assert Reading.objects.filter(meter=meters["BLD-1"]).count() == 3  # the -3 is rejected, with its line
    # The empty cell is no reading: the short gap it leaves is estimated, as in any import.
    stored = Reading.objects.filter(meter=meters["BLD-2"]).order_by("timestamp").values_list("kwh", "quality")
    assert [quality for _, quality in stored] == [Quality.RAW, Quality.ESTIMATED, Quality.RAW, Quality.RAW]
    result = report.context["result"]
    assert (result.accepted, result.rejected, result.skipped_missing, result.meters_created) == (6, 1, 1, 2)
    assert result.estimated == 1
    page_text = report.content.decode()
    assert "Read wide (a column per meter)" in page_text
    assert re.search(r"Imported 8 rows in \d+\.\d s\.", page_text)
    assert "created in site campus-x (local time Europe/London)" in page_text
    rejected = QuarantinedReading.objects.get()
    assert (rejected.meter_serial, rejected.source) == ("BLD-1", "upload b.csv")


def test_without_a_site_the_preview_warns_and_unknown_meters_rows_are_quarantined(manager: Any) -> None:
    client = client_for(manager)
    page = preview(client, WIDE, layout="wide")
    assert "Their rows will be rejected and kept in the quarantine" in page.content.decode()

    report = confirm_preview(client, page)

    assert report.context["result"].meters_created == 0
    assert not Meter.objects.filter(serial__startswith="BLD-").exists()
    assert QuarantinedReading.objects.filter(meter_serial="BLD-2").count() == 3


def test_zeros_as_missing_keeps_a_solar_midday_and_skips_an_exporters_zero(admin: Any) -> None:
    site = SiteFactory.create(code="sun", timezone="UTC")
    client = client_for(admin)
    page = preview(client, ZEROS, zero_is_missing="on", site_code=site.code)

    report = confirm_preview(client, page)

    result = report.context["result"]
    assert (result.accepted, result.skipped_missing, result.zeros_kept, result.meters_created) == (6, 1, 1, 1)
    raw = Reading.objects.filter(meter__serial="SOL-1", quality=Quality.RAW).order_by("timestamp")
    assert list(raw.values_list("kwh", flat=True)) == [6, 1, 0, 1, 5, 6]  # 14:00 is a gap (estimated, as any)


def test_a_file_of_one_meter_with_its_own_column_names_is_read_as_the_command_reads_it(admin: Any) -> None:
    """The Cambridge archive's layout: `datetime,equipment load [kWh]`, one building per file, kept in UTC."""
    body = b"datetime,equipment load [kWh]\n2019-01-01 00:00:00,8.3\n2019-01-01 01:00:00,16.0\n"
    client = client_for(admin)
    page = preview(
        client,
        body,
        meter_serial="UCam_Building_b24",
        timestamp_column="datetime",
        kwh_column="equipment load [kWh]",
        timezone="UTC",
        site_code="cambridge",
        site_timezone="Europe/London",
    )
    assert page.context["unknown"] == ["UCam_Building_b24"]
    assert "Every row is meter UCam_Building_b24." in page.content.decode()

    report = confirm_preview(client, page)

    assert report.context["result"].accepted == 2
    stored = Reading.objects.filter(meter__serial="UCam_Building_b24").order_by("timestamp")
    assert [(r.timestamp.hour, r.kwh) for r in stored] == [(0, 8.3), (1, 16.0)]
    assert ReadingsUpload.objects.get().columns == {"timestamp": "datetime", "kwh": "equipment load [kWh]"}


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"site_timezone": "Europe/London"}, "site_timezone", "give its code too"),
        ({"site_code": "campus x!"}, "site_code", "is not usable"),
        ({"site_code": "cam", "site_timezone": "Asia/Dubai"}, "site_code", "already keeps local time in Europe/London"),
        ({"timezone": "Europe/Londres"}, "timezone", "unknown time zone 'Europe/Londres'"),
        ({"site_code": "new", "site_timezone": "Mars/Olympus"}, "site_timezone", "unknown time zone"),
        ({"meter_serial": "B-1"}, "meter_serial", "A wide file names each meter in its header"),
    ],
)
def test_options_that_cannot_work_are_refused_on_their_field_before_anything_is_staged(
    admin: Any, options: dict[str, str], field: str, words: str
) -> None:
    SiteFactory.create(code="cam", timezone="Europe/London")
    sites = Site.objects.count()
    page = preview(client_for(admin), WIDE, layout="wide", **options)
    assert page.status_code == 400
    assert words in " ".join(page.context["form"].errors[field])
    assert words in page.content.decode().replace("&#x27;", "'")
    assert "token" not in page.context
    assert Site.objects.count() == sites


def test_a_long_file_read_as_wide_and_a_wide_file_read_as_long_say_which_they_are(manager: Any) -> None:
    client = client_for(manager)
    long_as_wide = preview(client, ZEROS, layout="wide").content.decode()
    assert "it looks long (a row per reading), not wide" in long_as_wide
    wide_as_long = preview(client, WIDE, layout="long").content.decode()
    assert "a column per meter is a wide file: read it as wide" in wide_as_long


def test_an_import_that_fails_creates_no_site(admin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr("meters.ingest.service.readings_upsert", broken)
    client = client_for(admin)
    confirm_preview(client, preview(client, WIDE, layout="wide", site_code="campus-x"))
    assert ReadingsUpload.objects.get().status == ReadingsUpload.Status.FAILED
    assert not Site.objects.filter(code="campus-x").exists()
    assert not Meter.objects.filter(serial__startswith="BLD-").exists()


def test_a_manager_may_not_create_sites_or_meters_and_is_not_offered_to(manager: Any) -> None:
    """The estate is configured by administrators (the API's sites and meters are read-only): so is an upload's."""
    client = client_for(manager)
    assert 'name="site_code"' not in client.get(reverse("readings-upload")).content.decode()
    page = preview(client, WIDE, layout="wide", site_code="campus-x")
    assert page.status_code == 400
    assert "Only administrators may create sites and meters" in page.context["error"]
    assert "token" not in page.context
    assert not Site.objects.filter(code="campus-x").exists()


def test_an_upload_whose_uploader_is_no_longer_an_administrator_creates_nothing(admin: Any) -> None:
    from meters.uploads import upload_import

    client = client_for(admin)
    page = preview(client, WIDE, layout="wide", site_code="campus-x")
    confirm(client, {**options_data(page), "token": page.context["token"], "filename": "b.csv"}, run=False)
    admin.is_staff = admin.is_superuser = False  # demoted while the import waited in the queue
    admin.save()
    upload = ReadingsUpload.objects.get()
    assert upload_import(upload_id=str(upload.pk)) == ReadingsUpload.Status.FAILED
    upload.refresh_from_db()
    assert "only administrators" in upload.error
    assert not Site.objects.filter(code="campus-x").exists()
