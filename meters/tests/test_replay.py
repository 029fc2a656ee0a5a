"""The replay keeps the simulated campus alive through one delivery path."""

from __future__ import annotations

import datetime as dt

import pytest

from meters.models import HourlyRollup, Incident, Meter, Reading
from meters.simulation import campus_simulate
from meters.simulation.replay import CampusReplay, LiveReading, deliver_batch

NOW = dt.datetime(2026, 10, 14, 9, 7, tzinfo=dt.UTC)


@pytest.fixture
def replay(db: None) -> CampusReplay:
    campus_simulate(scale="tiny", seed=2, days=3, now=NOW, progress=False)
    replay = CampusReplay(incidents_per_meter_day=0.0)
    assert replay.load()
    return replay


def test_simulated_campus_ends_at_the_last_complete_interval_before_now(replay: CampusReplay) -> None:
    assert replay.cursor == dt.datetime(2026, 10, 14, 9, 0, tzinfo=dt.UTC)


def test_replay_delivers_readings_for_now_and_refreshes_rollups(
    replay: CampusReplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "clock", lambda: NOW + dt.timedelta(hours=1))
    replay.late_share = 0.0
    delivered = replay.tick()
    active = Meter.objects.filter(removed_at__isnull=True).count()
    assert delivered >= 0.95 * 4 * active
    assert Reading.objects.filter(timestamp=dt.datetime(2026, 10, 14, 9, 45, tzinfo=dt.UTC)).count() >= 0.9 * active
    assert not Reading.objects.filter(timestamp__gte=dt.datetime(2026, 10, 14, 10, 0, tzinfo=dt.UTC)).exists()
    main = Meter.objects.get(serial="MAIN-A")
    hour = HourlyRollup.objects.get(meter=main, hour=dt.datetime(2026, 10, 14, 9, tzinfo=dt.UTC))
    assert hour.readings >= 3
    assert main.last_reading_at == dt.datetime(2026, 10, 14, 9, 45, tzinfo=dt.UTC)
    assert replay.tick() == 0  # nothing new is due yet


def test_replay_injects_incidents_and_records_them(replay: CampusReplay, monkeypatch: pytest.MonkeyPatch) -> None:
    before = Incident.objects.count()
    replay.incidents_per_meter_day = 50.0
    monkeypatch.setattr(replay, "clock", lambda: NOW + dt.timedelta(minutes=30))
    replay.tick()
    injected = Incident.objects.filter(note="Injected by replay.")
    assert injected.count() > 0
    assert Incident.objects.count() == before + injected.count()


def test_delivering_the_same_batch_twice_changes_nothing(replay: CampusReplay) -> None:
    meter = Meter.objects.get(serial="RM-A101")
    at = dt.datetime(2026, 10, 14, 9, 15, tzinfo=dt.UTC)
    batch = [LiveReading(meter.pk, at, 0.123, 230.1, 0.6, 0.95)]
    deliver_batch(batch)
    count = Reading.objects.count()
    deliver_batch(batch)
    assert Reading.objects.count() == count
    assert Reading.objects.get(meter=meter, timestamp=at).kwh == 0.123
