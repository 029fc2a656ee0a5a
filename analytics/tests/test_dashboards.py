"""Site overview and system health: scoped, exports safe, admin-only where it must be."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.exports import safe_cell
from analytics.figures import hostel_comparison_figure, to_json
from analytics.selectors.overview import HostelComparison
from conftest import client_for
from meters.ingest.hostel_rollups import hostel_rollups_rebuild
from meters.models import DailyRollup, HourlyRollup, Meter, Occupancy


@pytest.fixture
def rollups(campus: Any) -> None:
    """Each room's energy in one hour an hour ago, as ingestion leaves it: the meter's hourly rollup, its daily
    rollup (the local day of that hour) and the hostel's hourly rollup agree."""
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    for meter, kwh in ((campus.meter_a, 12.5), (campus.meter_b, 7.25)):
        day = hour.astimezone(ZoneInfo(meter.hostel.site.timezone)).date()
        DailyRollup.objects.create(meter=meter, day=day, kwh=kwh, readings=4)
        HourlyRollup.objects.create(
            meter=meter,
            hour=hour,
            kwh=kwh,
            readings=4,
            voltage_avg=231.0,
            voltage_min=228,
            voltage_max=234,
            power_factor_avg=0.94,
        )
    hostel_rollups_rebuild()  # rollups written directly, not by ingestion
    Occupancy.objects.create(room=campus.room_a, start=timezone.now() - dt.timedelta(days=3), occupants=4)
    Occupancy.objects.create(room=campus.room_b, start=timezone.now() - dt.timedelta(days=3), occupants=1)


@pytest.mark.django_db
def test_manager_dashboard_shows_both_hostels_and_grid_health(rollups: None, manager: Any) -> None:
    response = client_for(manager).get(reverse("dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hostel A" in body
    assert "Hostel B" in body
    assert "19.8 kWh" in body or "20 kWh" in body  # 12.5 + 7.25 in range
    assert "231.0 V" in body
    assert "vendor/plotly.min.js" in body


@pytest.mark.django_db
def test_warden_dashboard_and_export_hold_only_their_hostel(rollups: None, warden_b: Any) -> None:
    client = client_for(warden_b)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Hostel B" in body
    assert "Hostel A" not in body
    export = client.get(reverse("dashboard-hostels-csv")).content.decode()
    assert "Hostel B" in export
    assert "Hostel A" not in export
    assert export.splitlines()[1].startswith("Hostel B,7.25,")


@pytest.mark.django_db
def test_kwh_per_occupied_bed_uses_current_occupancy(rollups: None, manager: Any) -> None:
    export = client_for(manager).get(reverse("dashboard-hostels-csv")).content.decode().splitlines()
    rows = {line.split(",")[0]: line.split(",") for line in export[1:]}
    assert float(rows["Hostel A"][6]) == pytest.approx(12.5 / 4 / 14, abs=5e-4)  # to the watt-hour
    assert float(rows["Hostel B"][6]) == pytest.approx(7.25 / 1 / 14, abs=5e-4)


@pytest.mark.django_db
def test_date_range_with_end_before_start_is_explained(rollups: None, manager: Any) -> None:
    response = client_for(manager).get(reverse("dashboard"), {"start": "2025-02-10", "end": "2025-02-01"})
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


@pytest.mark.django_db
def test_system_health_is_for_administrators_only(rollups: None, admin: Any, manager: Any, warden_a: Any) -> None:
    assert client_for(admin).get(reverse("system")).status_code == 200
    assert client_for(manager).get(reverse("system")).status_code == 403
    assert client_for(warden_a).get(reverse("system")).status_code == 403
    assert client_for(warden_a).get(reverse("system-freshness-csv")).status_code == 403


@pytest.mark.django_db
def test_system_page_lists_schedules_and_meter_freshness(rollups: None, admin: Any) -> None:
    body = client_for(admin).get(reverse("system")).content.decode()
    assert "System heartbeat" in body
    assert "RM-A-101" in body
    for queue in ("live", "detection", "training", "imports"):  # each Celery queue's waiting messages
        # Other tests on the same Redis may leave messages queued: the row is there with its count.
        assert re.search(rf'<th scope="row">queue {queue}</th><td>\d+ waiting</td>', body)
    from meters.tests.factories import MeterFactory

    MeterFactory.create(serial="FD-1", kind=Meter.Kind.FEEDER, room=None)
    export = client_for(admin).get(reverse("system-freshness-csv")).content.decode()
    by_serial = {row[0]: row for row in csv.reader(io.StringIO(export))}
    room = Meter.objects.select_related("room__hostel", "hostel").get(serial="RM-B-101")
    assert by_serial["RM-B-101"][1:5] == ["Room meter", room.hostel.name, str(room.room), "15"]
    assert by_serial["FD-1"][1:4] == ["Feeder / other customer", "", ""]  # no hostel, no room


@pytest.mark.django_db
def test_dashboard_query_count_stays_flat(rollups: None, manager: Any, django_assert_max_num_queries: Any) -> None:
    from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory

    for _ in range(6):
        meter = MeterFactory.create(room=RoomFactory.create(hostel=HostelFactory.create()))
        DailyRollup.objects.create(meter=meter, day=timezone.localdate(), kwh=1.0, readings=96)
    client = client_for(manager)
    # + forecast subjects, series, risks (2), segments, alert queue; + weather (one query a site), and on a
    # cold cache the year's fit (rollups, occupancy); + the carbon windows' imported intensities (one query
    # each, after their kWh per hostel and hour): never per hostel.
    with django_assert_max_num_queries(14 + 6 + 3 + 2):
        assert client.get(reverse("dashboard")).status_code == 200


def test_spreadsheet_formulas_are_neutralised_but_numbers_kept() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell(-3.5) == -3.5
    assert safe_cell("Hostel A") == "Hostel A"


def test_figure_json_cannot_close_its_script_element() -> None:
    row = HostelComparison(1, "</script><script>alert(1)</script>", 1.0, 1.0, "EUR", 1, 2, 1.0)
    assert "</script>" not in to_json(hostel_comparison_figure([row]))
