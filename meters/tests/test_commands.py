"""import_readings, import_weather and import_occupancy from the command line."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.management import call_command

from meters.models import Meter, Occupancy, Quality, QuarantinedReading, Reading, Site, Weather

# The flags for one building file of ../shared/data/cambridge, as the README gives them.
CAMBRIDGE_FLAGS = ("--timestamp-column", "datetime", "--kwh-column", "equipment load [kWh]", "--zero-is-missing")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


@pytest.mark.django_db
def test_import_readings_json_prints_one_summary_line_and_is_idempotent(campus: Any, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        """
meter,timestamp,kwh,voltage,current,power_factor
RM-A-101,2025-03-01T00:00:00Z,0.2,230,1.1,0.95
RM-A-101,2025-03-01T00:15:00+00:00,0.3,,,
RM-A-101,2025-03-01T00:30:00Z,oops,230,1,0.9
NOPE,2025-03-01T00:30:00Z,0.3,230,1,0.9
""",
    )
    lines = run("import_readings", str(path), "--json").strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert (summary["accepted"], summary["updated"], summary["rejected"]) == (2, 0, 2)
    assert isinstance(summary["seconds"], float)
    assert list(QuarantinedReading.objects.order_by("row_number").values_list("row_number", flat=True)) == [4, 5]
    again = json.loads(run("import_readings", str(path), "--json"))
    assert (again["accepted"], again["updated"], again["rejected"]) == (0, 0, 2)


@pytest.mark.django_db
def test_import_readings_creates_meters_under_a_site_with_the_interval_of_the_data(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        """
meter,timestamp,kwh
NEW-1,2025-03-01 00:00:00,1.5
NEW-1,2025-03-01 00:30:00,1.2
NEW-1,2025-03-01 01:00:00,1.1
""",
    )
    summary = json.loads(
        run("import_readings", str(path), "--create-meters", "--site", "cam", "--timezone", "Europe/London", "--json")
    )
    assert summary["accepted"] == 3
    meter = Meter.objects.get(serial="NEW-1")
    assert meter.interval_minutes == 30
    assert meter.kind == Meter.Kind.FEEDER
    assert meter.hostel is not None
    assert meter.hostel.site.code == "cam"
    assert Site.objects.get(code="cam").timezone == "Europe/London"


@pytest.mark.django_db
def test_import_readings_reads_parquet(campus: Any, tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pd.DataFrame(
        {
            "meter": ["RM-A-101", "RM-A-101"],
            "timestamp": pd.to_datetime(["2025-03-01T00:00:00Z", "2025-03-01T00:15:00Z"]),
            "kwh": [0.2, 0.25],
        }
    ).to_parquet(path)
    summary = json.loads(run("import_readings", str(path), "--json"))
    assert summary["accepted"] == 2
    assert Reading.objects.filter(meter=campus.meter_a, timestamp=dt.datetime(2025, 3, 1, tzinfo=dt.UTC)).exists()


@pytest.mark.django_db
def test_import_readings_loads_a_cambridge_building_file_with_column_flags(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "2018.csv",
        """
datetime,equipment load [kWh]
2018-01-01 00:00:00,333.9
2018-01-01 01:00:00,681.1
2018-01-01 02:00:00,0
2018-01-01 03:00:00,650.0
""",
    )
    summary = json.loads(
        run(
            "import_readings",
            str(path),
            "--meter",
            "UCam_Building_b105",
            *CAMBRIDGE_FLAGS,
            "--timezone",
            "UTC",
            "--create-meters",
            "--site",
            "cambridge",
            "--json",
        )
    )
    # The zero is missing, not a reading; the one-hour gap it leaves is filled with an estimate.
    assert (summary["accepted"], summary["skipped_missing"], summary["estimated"]) == (3, 1, 1)
    assert Meter.objects.get(serial="UCam_Building_b105").interval_minutes == 60


@pytest.mark.django_db
def test_zero_is_missing_keeps_the_zeros_a_net_meter_falls_to_in_any_row_order(tmp_path: Path) -> None:
    """Solar panels covering the building at midday read 0 after low readings: readings, not a gap."""
    hours = pd.date_range("2019-06-03 00:00", periods=24, freq="h")
    kwh = [50.0] * 8 + [9.0, 3.0, 0.0, 0.0, 0.0, 2.0, 8.0] + [50.0] * 3 + [0.0] + [50.0] * 5
    frame = pd.DataFrame({"datetime": hours.strftime("%Y-%m-%d %H:%M:%S"), "equipment load [kWh]": kwh})
    path = tmp_path / "2019.csv"
    frame.sample(frac=1.0, random_state=3).to_csv(path, index=False)  # shuffled: neighbours are found by time
    args = ("import_readings", str(path), "--meter", "NET-1", *CAMBRIDGE_FLAGS, "--timezone", "UTC")
    summary = json.loads(run(*args, "--create-meters", "--site", "solar", "--json"))
    # The three midday zeros are kept; the 18:00 zero (50 -> 0 -> 50) is a gap, skipped and then estimated.
    assert (summary["zeros_kept"], summary["skipped_missing"], summary["accepted"]) == (3, 1, 23)
    stored = Reading.objects.filter(meter__serial="NET-1", kwh=0)
    assert sorted(r.timestamp.hour for r in stored) == [10, 11, 12]


@pytest.mark.django_db
def test_zero_is_missing_treats_zeros_beside_a_missing_reading_as_a_gap(tmp_path: Path) -> None:
    hours = pd.date_range("2019-06-03 00:00", periods=12, freq="h")
    kwh = [50.0, 9.0, 3.0, 0.0, 0.0, 2.0, 8.0, 50.0, 3.0, 0.0, 2.0, 50.0]
    frame = pd.DataFrame({"datetime": hours.strftime("%Y-%m-%d %H:%M:%S"), "equipment load [kWh]": kwh})
    frame = frame.drop(index=[2, 10])  # the readings beside two runs of zeros are missing from the file
    path = tmp_path / "2019.csv"
    frame.to_csv(path, index=False)
    args = ("import_readings", str(path), "--meter", "NET-2", *CAMBRIDGE_FLAGS, "--timezone", "UTC")
    summary = json.loads(run(*args, "--create-meters", "--site", "solar", "--json"))
    assert (summary["zeros_kept"], summary["skipped_missing"]) == (0, 3)


@pytest.mark.django_db
def test_site_timezone_gives_a_new_site_its_local_time_apart_from_the_files_zone(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    path = write_csv(tmp_path / "2019.csv", "datetime,equipment load [kWh]\n2019-06-03 00:00:00,5\n")
    args = ("import_readings", str(path), "--meter", "B-1", *CAMBRIDGE_FLAGS, "--timezone", "UTC", "--create-meters")
    run(*args, "--site", "cam", "--site-timezone", "Europe/London", "--json")
    assert Site.objects.get(code="cam").timezone == "Europe/London"
    assert Reading.objects.get(meter__serial="B-1").timestamp == dt.datetime(2019, 6, 3, tzinfo=dt.UTC)
    run(*args, "--site", "cam", "--json")  # an existing site keeps its zone
    assert Site.objects.get(code="cam").timezone == "Europe/London"
    with pytest.raises(CommandError, match="site 'cam' already keeps local time in Europe/London, not Asia/Dubai"):
        run(*args, "--site", "cam", "--site-timezone", "Asia/Dubai")
    with pytest.raises(CommandError, match="unknown time zone 'Europe/Cambridge'"):
        run(*args, "--site", "other", "--site-timezone", "Europe/Cambridge")
    assert not Site.objects.filter(code="other").exists()
    with pytest.raises(CommandError, match="--site-timezone is the zone of a site --create-meters creates"):
        run("import_readings", str(path), "--meter", "B-1", "--site-timezone", "Europe/London")
    # A site created on UTC local time is named as such, on stderr (the JSON line stays the last of stdout).
    err = io.StringIO()
    call_command(*args, "--site", "utc-site", "--json", stdout=io.StringIO(), stderr=err)
    assert "created with local time UTC" in err.getvalue()


@pytest.mark.django_db
def test_import_weather_creates_a_site_in_its_own_local_time(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "w.csv", "timestamp,temperature_c\n2019-06-03 00:00:00,12.5\n")
    run("import_weather", str(path), "--site", "dxb", "--timezone", "UTC", "--site-timezone", "Asia/Dubai", "--json")
    assert Site.objects.get(code="dxb").timezone == "Asia/Dubai"
    assert Weather.objects.get(site__code="dxb").timestamp == dt.datetime(2019, 6, 3, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_import_readings_wide_takes_a_column_per_meter(tmp_path: Path) -> None:
    """An export with a column per building: empty cells are no reading, a bad cell is quarantined by its line."""
    path = write_csv(
        tmp_path / "wide.csv",
        """
timestamp,Library,Sports hall
2019-01-01 00:00:00,10.5,
2019-01-01 01:00:00,11.0,
2019-01-01 02:00:00,oops,4.0
2019-01-01 03:00:00,12.0,4.5
""",
    )
    args = ("import_readings", str(path), "--wide", "--timezone", "Europe/Madrid", "--create-meters", "--site", "es")
    summary = json.loads(run(*args, "--json"))
    assert (summary["accepted"], summary["skipped_missing"], summary["rejected"]) == (5, 2, 1)
    assert summary["meters"] == 2
    library = Reading.objects.filter(meter__serial="Library")
    assert (library.count(), library.filter(quality=Quality.ESTIMATED).count()) == (4, 1)  # the bad hour is estimated
    sports = Reading.objects.filter(meter__serial="Sports hall").order_by("timestamp")
    assert [r.kwh for r in sports] == [4.0, 4.5]
    assert sports[0].timestamp == dt.datetime(2019, 1, 1, 1, tzinfo=dt.UTC)  # 02:00 in Madrid
    bad = QuarantinedReading.objects.get()
    assert (bad.row_number, bad.meter_serial) == (4, "Library")
    assert bad.raw["kwh"] == "oops"  # kept as a long row: fixed and re-processed like any other
    assert "not a number" in bad.reason
    # Parquet too, and a second import changes nothing.
    frame = pd.read_csv(path)
    parquet = tmp_path / "wide.parquet"
    frame.to_parquet(parquet)
    again = json.loads(run("import_readings", str(parquet), "--wide", "--timezone", "Europe/Madrid", "--json"))
    assert (again["accepted"], again["unchanged"], again["skipped_missing"]) == (0, 5, 2)


@pytest.mark.django_db
def test_import_readings_wide_says_what_a_wide_file_needs(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    path = write_csv(tmp_path / "w.csv", "when,Library\n2019-01-01 00:00:00,1\n")
    with pytest.raises(CommandError, match="a wide file needs a timestamp column and one column per meter"):
        run("import_readings", str(path), "--wide", "--timezone", "UTC")
    with pytest.raises(CommandError, match="--wide takes each meter from its column's header"):
        run("import_readings", str(path), "--wide", "--meter", "X", "--timestamp-column", "when")


@pytest.mark.django_db
def test_import_readings_refuses_a_file_without_the_needed_columns(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    path = write_csv(tmp_path / "r.csv", "a,b\n1,2")
    with pytest.raises(CommandError, match="missing column"):
        run("import_readings", str(path))


@pytest.mark.django_db
def test_import_weather_creates_the_site_and_upserts_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "w.csv",
        """
timestamp,temperature_c,humidity,rainfall_mm,wind_kmh,pressure_hpa
2025-03-01T00:00:00Z,5.5,80,0,10,1012
2025-03-01T01:00:00Z,5.0,82,0.2,12,1011
2025-03-01T02:00:00Z,500,82,0.2,12,1011
""",
    )
    summary = json.loads(run("import_weather", str(path), "--site", "wx", "--json"))
    assert (summary["accepted"], summary["rejected"]) == (2, 1)
    run("import_weather", str(path), "--site", "wx", "--json")
    assert Weather.objects.filter(site__code="wx").count() == 2


@pytest.mark.django_db
def test_import_weather_understands_the_cambridge_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "2018.csv",
        """
datetime,air_temperature [degC],rltv_hum [%],glbl_irad_amt [W/m2]
2018-01-01 00:00:00,5.8,83.2,0.0
2018-01-01 01:00:00,5.2,81.1,0.0
""",
    )
    summary = json.loads(run("import_weather", str(path), "--site", "cambridge", "--json"))
    assert summary["accepted"] == 2
    row = Weather.objects.get(timestamp=dt.datetime(2018, 1, 1, 1, tzinfo=dt.UTC))
    assert (row.temperature_c, row.humidity_pct, row.irradiance_wm2) == (5.2, 81.1, 0.0)


@pytest.mark.django_db
def test_import_occupancy_checks_rooms_and_capacity(campus: Any, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "o.csv",
        """
room,from,to,occupants
A-A-101,2025-09-01,2026-06-30,3
A-A-101,2026-07-01,,5
Z-999,2025-09-01,,1
""",
    )
    summary = json.loads(run("import_occupancy", str(path), "--json"))
    assert (summary["accepted"], summary["rejected"]) == (1, 2)
    assert "sleeps 4" in summary["reasons"][0]
    assert "unknown room" in summary["reasons"][1]
    assert Occupancy.objects.get(room=campus.room_a).occupants == 3
    run("import_occupancy", str(path), "--json")
    assert Occupancy.objects.filter(room=campus.room_a).count() == 1
