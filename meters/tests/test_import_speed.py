"""The fast paths of a file import (issue 29) keep every guarantee: rollups equal rollups recomputed
from the stored readings, bad rows quarantined with reasons, upserts, and no rollup left without its meter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from meters.ingest import readings_ingest_file
from meters.ingest import rollups as rollups_module
from meters.models import DailyRollup, HourlyRollup, Meter, Quality, QuarantinedReading, Reading
from meters.tests.factories import MeterFactory

T0 = dt.datetime(2025, 3, 29, 20, 0, tzinfo=dt.UTC)  # Europe/Madrid goes to summer time the next night


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("meter,timestamp,kwh,voltage,current,power_factor\n" + "".join(f"{line}\n" for line in lines))
    return path


def _recomputed() -> tuple[dict[tuple[int, dt.datetime], tuple[Any, ...]], dict[tuple[int, dt.date], tuple[Any, ...]]]:
    """Hourly and daily rollups computed here, in pandas, from every stored reading."""
    frame = pd.DataFrame(
        Reading.objects.values_list("meter_id", "timestamp", "kwh", "voltage", "power_factor", "quality"),
        columns=["meter_id", "timestamp", "kwh", "voltage", "power_factor", "quality"],
    )
    frame = frame[frame["kwh"] >= 0]
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["hour"] = frame["timestamp"].dt.floor("h")
    frame["estimated"] = frame["quality"] == Quality.ESTIMATED
    meters = {m.id: m for m in Meter.objects.select_related("room__hostel__site", "hostel__site")}
    hourly: dict[tuple[int, dt.datetime], tuple[Any, ...]] = {}
    for key, part in frame.groupby(["meter_id", "hour"]):
        meter_id, hour = int(key[0]), pd.Timestamp(key[1]).to_pydatetime()  # type: ignore[call-overload,arg-type]
        per_hour = 60.0 / meters[meter_id].interval_minutes
        hourly[(meter_id, hour)] = (
            pytest.approx(part["kwh"].sum()),
            len(part),
            int(part["estimated"].sum()),
            pytest.approx(part["kwh"].max() * per_hour),
            None if part["voltage"].isna().all() else pytest.approx(part["voltage"].mean()),
            None if part["power_factor"].isna().all() else pytest.approx(part["power_factor"].mean()),
        )
    daily: dict[tuple[int, dt.date], list[Any]] = {}
    for (meter_id, hour), (kwh, readings, estimated, peak, _v, _pf) in hourly.items():
        meter = meters[meter_id]
        hostel = meter.hostel or meter.room.hostel
        day = hour.astimezone(ZoneInfo(hostel.site.timezone)).date()
        item = daily.setdefault((meter_id, day), [0.0, 0, 0, 0.0])
        item[0] += kwh.expected
        item[1] += readings
        item[2] += estimated
        item[3] = max(item[3], peak.expected)
    return hourly, {key: (pytest.approx(v[0]), v[1], v[2], pytest.approx(v[3])) for key, v in daily.items()}


def _assert_rollups_match_readings() -> None:
    hourly, daily = _recomputed()
    stored_hourly = {
        (m, hour): (kwh, n, est, peak, v, pf)
        for m, hour, kwh, n, est, peak, v, pf in HourlyRollup.objects.values_list(
            "meter_id", "hour", "kwh", "readings", "estimated", "peak_kw", "voltage_avg", "power_factor_avg"
        )
    }
    assert stored_hourly == hourly
    stored_daily = {
        (m, day): (kwh, n, est, peak)
        for m, day, kwh, n, est, peak in DailyRollup.objects.values_list(
            "meter_id", "day", "kwh", "readings", "estimated", "peak_kw"
        )
    }
    assert stored_daily == daily


def _lines() -> list[str]:
    lines = []
    for k in range(16):  # 15-minute meter: four hours, over two local days
        moment = T0 + dt.timedelta(minutes=15 * k)
        lines.append(f"Q-1,{_stamp(moment)},{0.25 + k / 100},{229 + k % 3},,0.95")
    for k in range(30):  # hourly meter: 30 hours, across the DST change
        lines.append(f"H-1,{_stamp(T0 + dt.timedelta(hours=k))},{1.5 + k / 10},,,")
    lines += [
        f"Q-1,{_stamp(T0 + dt.timedelta(hours=5))},-2,,,",  # negative: quarantined
        f"NOPE,{_stamp(T0)},0.1,,,",  # unknown meter: quarantined
        f"H-1,{_stamp(T0 + dt.timedelta(hours=31))},lots,,,",  # not a number: quarantined
    ]
    return lines


@pytest.fixture
def meters(db: None) -> tuple[Meter, Meter]:
    return (
        MeterFactory.create(serial="Q-1", interval_minutes=15, rated_kw=10.0),
        MeterFactory.create(serial="H-1", interval_minutes=60, rated_kw=50.0),
    )


def _import_twice_and_check(tmp_path: Path) -> None:
    first = readings_ingest_file(path=_write(tmp_path / "a.csv", _lines()))
    assert (first.accepted, first.rejected) == (46, 3)
    reasons = sorted(QuarantinedReading.objects.values_list("meter_serial", "reason"))
    assert [serial for serial, _ in reasons] == ["H-1", "NOPE", "Q-1"]
    assert all(reason for _, reason in reasons)
    _assert_rollups_match_readings()

    # Again, overlapping: changed values (upserts), new hours after and before, an hour filled in part.
    lines = _lines()
    lines[3] = f"Q-1,{_stamp(T0 + dt.timedelta(minutes=45))},2.0,,,"
    lines += [f"Q-1,{_stamp(T0 + dt.timedelta(hours=4, minutes=15 * k))},0.5,,,0.9" for k in range(3)]
    lines += [f"H-1,{_stamp(T0 - dt.timedelta(hours=k))},2.0,,," for k in range(1, 4)]
    second = readings_ingest_file(path=_write(tmp_path / "b.csv", lines))
    assert (second.accepted, second.updated, second.rejected) == (6, 1, 3)
    assert Reading.objects.get(meter__serial="Q-1", timestamp=T0 + dt.timedelta(minutes=45)).quality == (
        Quality.CORRECTED
    )
    assert QuarantinedReading.objects.count() == 6
    _assert_rollups_match_readings()


@pytest.mark.django_db
def test_rollups_after_imports_equal_rollups_recomputed_from_the_readings(
    meters: tuple[Meter, Meter], tmp_path: Path
) -> None:
    _import_twice_and_check(tmp_path)


@pytest.mark.postgres
@pytest.mark.django_db
def test_rollups_already_there_but_missed_by_the_probe_fall_back_to_the_upsert(
    meters: tuple[Meter, Meter], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain INSERT of hourly rollups that meets a stored one rolls back to its savepoint and upserts."""
    calls: list[set[int]] = []

    def every_meter(cursor: Any, spans: list[tuple[int, dt.datetime, dt.datetime]]) -> set[int]:
        calls.append({span[0] for span in spans})
        return {span[0] for span in spans}  # as if no meter had a rollup in its span

    stale = HourlyRollup.objects.create(meter=meters[0], hour=T0, kwh=123.0, readings=1)
    monkeypatch.setattr(rollups_module, "_without_rollups", every_meter)
    result = readings_ingest_file(path=_write(tmp_path / "a.csv", _lines()))
    assert calls
    assert result.accepted == 46
    assert HourlyRollup.objects.get(pk=stale.pk).kwh == pytest.approx(sum(0.25 + k / 100 for k in range(4)))
    _assert_rollups_match_readings()


@pytest.mark.django_db
def test_deleting_a_meter_deletes_its_readings_and_rollups(meters: tuple[Meter, Meter], tmp_path: Path) -> None:
    """Rollups have no database foreign key any more: Django's cascade is what removes them."""
    readings_ingest_file(path=_write(tmp_path / "a.csv", _lines()))
    gone = meters[1].id
    assert HourlyRollup.objects.filter(meter_id=gone).exists()
    meters[1].delete()
    assert not HourlyRollup.objects.filter(meter_id=gone).exists()
    assert not DailyRollup.objects.filter(meter_id=gone).exists()
    assert not Reading.objects.filter(meter_id=gone).exists()
    assert HourlyRollup.objects.filter(meter_id=meters[0].id).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_meter_deleted_while_an_import_holds_it_waits_and_leaves_no_rollup_behind(
    meters: tuple[Meter, Meter], tmp_path: Path
) -> None:
    import threading

    from django.db import connection, transaction

    from meters.ingest.rollups import meters_lock

    path = _write(tmp_path / "a.csv", _lines())
    locked, deleted = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def delete() -> None:
        try:
            locked.wait(10)
            Meter.objects.get(pk=meters[1].pk).delete()
            deleted.set()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=delete)
    thread.start()
    with transaction.atomic():
        meters_lock(meter_ids=[meters[1].pk])
        locked.set()
        readings_ingest_file(path=path)
        # The delete waits for this transaction (without the lock it ran now, before the rollups commit).
        assert not deleted.wait(1.0)
    thread.join(20)
    assert not errors
    assert deleted.is_set()
    assert not HourlyRollup.objects.filter(meter_id=meters[1].pk).exists()
    assert not DailyRollup.objects.filter(meter_id=meters[1].pk).exists()
    assert HourlyRollup.objects.filter(meter_id=meters[0].pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_rollups_summed_while_copying_equal_rollups_recomputed_from_the_readings(
    meters: tuple[Meter, Meter], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The NumPy hours (meters.ingest.hourly) on every batch: overlaps, DST, quarantine, upserts as before."""
    from meters.ingest import hourly

    monkeypatch.setattr(hourly, "MIN_ROWS", 0)
    _import_twice_and_check(tmp_path)


@pytest.mark.postgres
@pytest.mark.django_db
def test_summed_hours_see_older_readings_in_their_edge_hours_estimates_and_kept_rollups(
    meters: tuple[Meter, Meter], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An hour shared with readings stored before, an hour split between two chunks, filled gaps, and
    rollups kept without their readings (an archived month coming back) all come out as recomputed."""
    from meters.ingest import hourly, readings_chunks, readings_ingest

    monkeypatch.setattr(hourly, "MIN_ROWS", 0)
    hourly_meter = meters[1]
    readings_ingest_file(path=_write(tmp_path / "old.csv", [f"Q-1,{_stamp(T0)},0.3,,,"]))
    # Rollups of hours whose readings are gone (archived): the import must update them, not clash.
    HourlyRollup.objects.create(meter=hourly_meter, hour=T0 + dt.timedelta(hours=5), kwh=99.0, readings=1)
    lines = [f"Q-1,{_stamp(T0 + dt.timedelta(minutes=15 * k))},{0.2 + k / 50},230,,0.9" for k in range(1, 40)]
    del lines[20]  # a 15-minute gap, filled with an estimate
    lines += [f"H-1,{_stamp(T0 + dt.timedelta(hours=k))},{1.0 + k},,," for k in range(40) if k not in (7, 8)]
    path = _write(tmp_path / "new.csv", lines)
    result = readings_ingest(rows=readings_chunks(path=path, chunk_rows=7), source=path.name)  # hours split
    assert result.estimated >= 3
    assert result.accepted == len(lines)
    assert HourlyRollup.objects.get(meter=hourly_meter, hour=T0 + dt.timedelta(hours=5)).kwh == pytest.approx(6.0)
    _assert_rollups_match_readings()


def test_inner_days_sum_each_meters_local_days_between_its_first_and_last() -> None:
    """Local days of the meter's zone (a DST day of 25 hours, a half-hour offset), first and last days left out."""
    from meters.ingest.hourly import inner_days

    start = int(dt.datetime(2025, 4, 4, 10, tzinfo=dt.UTC).timestamp())  # Adelaide leaves summer time on the 6th
    hours = list(range(start, start + 4 * 86_400, 3600))
    frame = pd.DataFrame(
        {
            "meter_id": [7] * len(hours) + [8] * 3,
            "hour": hours + hours[:3],
            "kwh": [1.0] * len(hours) + [5.0] * 3,
            "readings": 4,
            "estimated": [1] + [0] * (len(hours) + 2),
            "peak_kw": [2.0, float("nan")] * (len(hours) // 2) + [3.0] * 3,
        }
    )
    days = inner_days(frame, {7: "Australia/Adelaide"})
    zone = ZoneInfo("Australia/Adelaide")
    local = [dt.datetime.fromtimestamp(hour, zone).date() for hour in hours]
    expected = sorted(set(local))[1:-1]
    assert days["meter_id"].tolist() == [7] * len(expected)  # meter 8 has one day (in UTC): no inner day
    assert days["day"].tolist() == expected
    assert days["kwh"].tolist() == [float(local.count(day)) for day in expected]
    assert 25.0 in days["kwh"].tolist()  # 6 April: the clocks go back
    assert days["readings"].tolist() == [4 * local.count(day) for day in expected]
    assert days["estimated"].tolist() == [0] * len(expected)
    assert days["peak_kw"].tolist() == [2.0] * len(expected)


@pytest.mark.postgres
@pytest.mark.django_db
def test_days_summed_from_the_imported_hours_equal_days_recomputed_from_the_readings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week of hours in a half-hour zone across a DST change: the inner days come from the summed
    hours, the first and last from the table (which holds an older reading on the first day); a daily
    rollup kept without its readings (an archived day) is replaced."""
    from meters.ingest import hourly
    from meters.tests.factories import HostelFactory, SiteFactory

    monkeypatch.setattr(hourly, "MIN_ROWS", 0)
    site = SiteFactory.create(code="adelaide", timezone="Australia/Adelaide")
    meter = MeterFactory.create(
        serial="A-1", kind=Meter.Kind.FEEDER, interval_minutes=60, room=None, hostel=HostelFactory.create(site=site)
    )
    start = dt.datetime(2025, 4, 2, 10, tzinfo=dt.UTC)
    readings_ingest_file(path=_write(tmp_path / "old.csv", [f"A-1,{_stamp(start)},0.5,,,"]))
    DailyRollup.objects.create(meter=meter, day=dt.date(2025, 4, 5), kwh=999.0, readings=1)
    lines = [f"A-1,{_stamp(start + dt.timedelta(hours=k))},{1.0 + k % 7},,," for k in range(2, 24 * 7)]
    result = readings_ingest_file(path=_write(tmp_path / "week.csv", lines))
    assert result.accepted == len(lines)
    assert result.estimated == 1  # the hour between the two files
    assert DailyRollup.objects.filter(meter=meter).count() == 8
    _assert_rollups_match_readings()
