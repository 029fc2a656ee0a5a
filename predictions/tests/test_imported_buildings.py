"""A building imported with `import_readings --create-meters` is watched like any hostel main: its history is scanned.

Such a meter is a feeder of the site's "imported" hostel. Detection once watched only rooms and hostel mains, so an
imported year was never scanned and its closures never reached the inbox.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from alerts.models import Alert
from meters.models import Meter
from meters.tests.factories import HostelFactory, MeterFactory
from predictions.detection.baselines import detection_meter_ids
from predictions.models import Anomaly, HistoryScan

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Europe/Madrid")
FIRST = dt.date(2024, 9, 2)  # a Monday
CLOSED = dt.date(2024, 10, 29)  # a Tuesday the building was closed, which no calendar knows


def building_csv(path: Path) -> Path:
    """Nine weeks of a building's hourly kWh in UTC, as the Cambridge archive keeps them: busy weekdays, quiet
    weekends, and one quiet Tuesday."""
    lines = ["datetime,equipment load [kWh]"]
    for n in range(63):
        day = FIRST + dt.timedelta(days=n)
        wobble = 1.0 + 0.03 * ((n * 7) % 5 - 2) / 2
        for hour in range(24):
            at = dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE).astimezone(dt.UTC)
            working = day.weekday() < 5 and day != CLOSED and 8 <= hour < 18
            hourly = 1.0 + 0.02 * ((hour * 5 + n) % 7)  # no two hours alike: a real meter never repeats itself
            lines.append(f"{at:%Y-%m-%d %H:%M:%S},{(40.0 if working else 10.0) * wobble * hourly:.2f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def import_building(path: Path) -> None:
    """As the README imports a Cambridge building: UTC file, a site in local time, the meter created."""
    call_command(
        "import_readings",
        str(path),
        "--meter",
        "LIB-MAIN",
        "--timestamp-column",
        "datetime",
        "--kwh-column",
        "equipment load [kWh]",
        "--timezone",
        "UTC",
        "--site-timezone",
        "Europe/Madrid",
        "--create-meters",
        "--site",
        "uni",
        "--json",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


def test_an_imported_buildings_history_is_scanned_and_its_closure_raised(
    eager: None, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    path = building_csv(tmp_path / "2024.csv")
    with django_capture_on_commit_callbacks(execute=True):
        import_building(path)
    meter = Meter.objects.get(serial="LIB-MAIN")
    assert meter.kind == Meter.Kind.FEEDER
    scan = HistoryScan.objects.get()
    assert (scan.reason, scan.status, scan.meter_ids) == ("import", "done", [meter.pk])
    closure = Anomaly.objects.get(meter=meter, kind="closure_unexpected")
    # Named by its serial: several imported buildings share the site's "imported" hostel.
    assert closure.explanation.startswith("LIB-MAIN: Tuesday 29 Oct 2024 ran like a ")
    assert list(Anomaly.objects.values_list("kind", flat=True)) == ["closure_unexpected"]  # and nothing else
    assert Alert.objects.filter(meter=meter, history=True).count() == 1


def test_feeders_in_a_hostel_are_watched_and_feeders_of_other_customers_are_not() -> None:
    imported = MeterFactory.create(serial="B-1", kind=Meter.Kind.FEEDER, room=None, hostel=HostelFactory.create())
    shop = MeterFactory.create(serial="FD-SHOP", kind=Meter.Kind.FEEDER, room=None, hostel=None)
    ids = detection_meter_ids()
    assert imported.pk in ids
    assert shop.pk not in ids


def test_a_gap_in_an_imported_history_is_a_low_alert_not_a_high_one(
    eager: None, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """Thirty hours missing from a past week are missing data to know about, not a meter to visit now."""
    path = building_csv(tmp_path / "2024.csv")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[: 1 + 24 * 30] + lines[1 + 24 * 30 + 30 :]) + "\n")  # from day 30, 30 hours
    with django_capture_on_commit_callbacks(execute=True):
        import_building(path)
    gap = Anomaly.objects.get(kind="dead_meter")
    assert (gap.end - gap.start).total_seconds() >= 24 * 3600
    alert = Alert.objects.get(source_payload__kind="dead_meter")
    assert alert.history
    assert alert.severity == "low"
    # The unregistered closure keeps the severity its score gives (at most medium).
    assert Alert.objects.get(source_payload__kind="closure_unexpected").severity in ("low", "medium")
