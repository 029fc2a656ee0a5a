"""Carbon: kg CO2 of consumption at a site's constant or hourly grid intensity, and its import."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from conftest import Campus, client_for
from meters.ingest.hostel_rollups import hostel_rollups_rebuild
from meters.models import CarbonIntensity, HostelHourlyRollup, HourlyRollup, Meter
from meters.selectors.carbon import carbon_kg_by_hostel, carbon_kg_for

# 2025-03-10 in Madrid (UTC+1): local midnight is 23:00 UTC the day before.
DAY = dt.date(2025, 3, 10)
FIRST_HOUR = dt.datetime(2025, 3, 9, 23, tzinfo=dt.UTC)


def _hours(meter: Meter, kwh: list[float]) -> None:
    HourlyRollup.objects.bulk_create(
        HourlyRollup(meter=meter, hour=FIRST_HOUR + dt.timedelta(hours=i), kwh=v, readings=4) for i, v in enumerate(kwh)
    )
    hostel_rollups_rebuild()  # rollups written directly, not by ingestion


@pytest.fixture
def energy(campus: Campus) -> Campus:
    _hours(campus.meter_a, [1.0, 2.0, 3.0, 4.0])  # 10 kWh on DAY
    _hours(campus.meter_b, [5.0, 5.0])  # 10 kWh on DAY
    return campus


def test_carbon_at_a_constant_intensity_is_kwh_times_it(energy: Campus) -> None:
    site = energy.hostel_a.site
    site.carbon_kg_per_kwh = 0.25
    site.save()
    by_hostel = carbon_kg_by_hostel(rollups=HostelHourlyRollup.objects.all(), start=DAY, end=DAY)
    assert by_hostel[energy.hostel_a.pk] == pytest.approx(2.5)
    assert by_hostel[energy.hostel_b.pk] == pytest.approx(2.5)
    assert carbon_kg_for(rollups=HostelHourlyRollup.objects.all(), start=DAY, end=DAY) == pytest.approx(5.0)


def test_hourly_intensity_wins_over_the_constant_where_it_exists(energy: Campus) -> None:
    site = energy.hostel_a.site
    site.carbon_kg_per_kwh = 0.25
    site.save()
    CarbonIntensity.objects.create(site=site, timestamp=FIRST_HOUR, kg_per_kwh=0.5)
    CarbonIntensity.objects.create(site=site, timestamp=FIRST_HOUR + dt.timedelta(hours=3), kg_per_kwh=0.1)
    # meter A: 1 x 0.5 + 2 x 0.25 + 3 x 0.25 + 4 x 0.1 = 2.15; meter B: 5 x 0.5 + 5 x 0.25 = 3.75
    assert carbon_kg_for(
        rollups=HostelHourlyRollup.objects.filter(hostel=energy.hostel_a), start=DAY, end=DAY
    ) == pytest.approx(2.15)
    assert carbon_kg_for(rollups=HostelHourlyRollup.objects.all(), start=DAY, end=DAY) == pytest.approx(5.9)


def test_carbon_is_summed_from_hostel_rollups_not_every_meters_rows(energy: Campus) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    site = energy.hostel_a.site
    site.carbon_kg_per_kwh = 0.25
    site.save()
    CarbonIntensity.objects.create(site=site, timestamp=FIRST_HOUR, kg_per_kwh=0.5)
    with CaptureQueriesContext(connection) as queries:
        total = carbon_kg_for(rollups=HostelHourlyRollup.objects.all(), start=DAY, end=DAY)
    assert total == pytest.approx(1 * 0.5 + 9 * 0.25 + 5 * 0.5 + 5 * 0.25)
    # An intensity looked up for every meter's hourly rollup row took 4.5 s on two weeks of 5,000 rooms, and
    # summing the meters' rows per hostel and hour first still 1.3 s: one query over the hostel rollups.
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in sql if "meters_hourlyrollup" in q]
    assert len([q for q in sql if "meters_hostelhourlyrollup" in q]) == 2  # the sites' zones, then the sum


def test_without_any_intensity_carbon_is_unknown_not_zero(energy: Campus) -> None:
    assert carbon_kg_for(rollups=HostelHourlyRollup.objects.all(), start=DAY, end=DAY) is None


def test_days_are_the_sites_local_days(energy: Campus) -> None:
    site = energy.hostel_a.site
    site.carbon_kg_per_kwh = 1.0
    site.save()
    assert (
        carbon_kg_for(
            rollups=HostelHourlyRollup.objects.all(), start=DAY - dt.timedelta(days=1), end=DAY - dt.timedelta(days=1)
        )
        is None
    )


def test_import_carbon_stores_good_rows_and_reports_bad_ones(campus: Campus, tmp_path: Path) -> None:
    path = tmp_path / "carbon.csv"
    path.write_text(
        "from,intensity\n"
        "2025-03-10T00:00Z,200\n"
        "2025-03-10T00:30Z,300\n"
        "yesterday,100\n"
        "2025-03-10T01:00Z,lots\n"
        "2025-03-10T02:00Z,9000\n"
        "2025-03-10T03:00Z,150\n"
    )
    out = StringIO()
    call_command("import_carbon", str(path), "--site", campus.hostel_a.site.code, stdout=out)
    text = out.getvalue()
    assert "2 hours of carbon intensity stored, 3 rows rejected" in text
    assert "row 4: unparseable timestamp 'yesterday'" in text
    assert "row 5: intensity missing or not a number" in text
    assert "row 6: 9 kg/kWh outside 0 to 2" in text
    stored = dict(CarbonIntensity.objects.values_list("timestamp", "kg_per_kwh"))
    assert stored == {
        dt.datetime(2025, 3, 10, 0, tzinfo=dt.UTC): pytest.approx(0.25),  # half-hours averaged, g -> kg
        dt.datetime(2025, 3, 10, 3, tzinfo=dt.UTC): pytest.approx(0.15),
    }
    call_command("import_carbon", str(path), "--site", campus.hostel_a.site.code, stdout=StringIO())
    assert CarbonIntensity.objects.count() == 2  # idempotent


def test_import_carbon_names_an_unknown_site_and_a_file_without_columns(campus: Campus, tmp_path: Path) -> None:
    path = tmp_path / "carbon.csv"
    path.write_text("when,value\n2025-01-01,1\n")
    with pytest.raises(CommandError, match="unknown site code 'nowhere'"):
        call_command("import_carbon", str(path), "--site", "nowhere")
    with pytest.raises(CommandError, match=r"carbon\.csv: need a timestamp column"):
        call_command("import_carbon", str(path), "--site", campus.hostel_a.site.code)


def test_overview_api_and_hostel_csv_show_carbon_in_the_users_scope(energy: Campus, warden_a: Any) -> None:
    site = energy.hostel_a.site
    site.carbon_kg_per_kwh = 0.25
    site.save()
    client = client_for(warden_a)
    overview = client.get(f"/api/v1/analytics/overview?start={DAY}&end={DAY}").json()
    assert overview["carbon_kg"] == pytest.approx(2.5)  # hostel A's 10 kWh only
    rows = client.get(f"/api/v1/analytics/hostel-comparison?start={DAY}&end={DAY}").json()
    assert [(row["name"], row["carbon_kg"]) for row in rows] == [(energy.hostel_a.name, pytest.approx(2.5))]
    csv = client.get(f"/dashboard/hostels.csv?start={DAY}&end={DAY}").content.decode()
    assert csv.splitlines()[0].endswith(",kg_co2")
    assert csv.splitlines()[1].endswith(",2.5")
    page = client.get(f"/dashboard/?start={DAY}&end={DAY}").content.decode()
    assert "2.5 kg CO2" in page
