"""readings_ingest: idempotence, corrections, quarantine, registers, gaps, rollups and the signal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.db import transaction

from meters.ingest import ColumnMap, meters_stale, quarantine_reprocess, readings_chunks, readings_ingest
from meters.models import DailyRollup, HourlyRollup, Meter, MeterEvent, Quality, QuarantinedReading, Reading
from meters.signals import readings_ingested
from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory, SiteFactory

T0 = dt.datetime(2025, 2, 3, 0, 0, tzinfo=dt.UTC)  # a Monday
NOW = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)


def rows(
    serial: str, count: int, *, start: dt.datetime = T0, step: int = 15, kwh: float = 0.25
) -> list[dict[str, Any]]:
    return [
        {"meter": serial, "timestamp": (start + dt.timedelta(minutes=step * k)).isoformat(), "kwh": kwh}
        for k in range(count)
    ]


def ingest(data: list[dict[str, Any]], **kwargs: Any) -> Any:
    kwargs.setdefault("now", NOW)
    return readings_ingest(rows=data, source="test", **kwargs)


@pytest.fixture
def meter(db: None) -> Meter:
    return MeterFactory.create(serial="M-1", interval_minutes=15, rated_kw=5.0)


@pytest.mark.django_db
def test_uploading_the_same_readings_twice_changes_nothing(meter: Meter) -> None:
    first = ingest(rows("M-1", 8))
    assert (first.accepted, first.updated, first.rejected) == (8, 0, 0)
    second = ingest(rows("M-1", 8))
    assert (second.accepted, second.updated, second.unchanged, second.rejected) == (0, 0, 8, 0)
    assert Reading.objects.filter(meter=meter).count() == 8
    assert set(Reading.objects.filter(meter=meter).values_list("quality", flat=True)) == {Quality.RAW}


@pytest.mark.django_db
def test_a_changed_value_updates_the_reading_and_marks_it_corrected(meter: Meter) -> None:
    ingest(rows("M-1", 4))
    data = rows("M-1", 4)
    data[2]["kwh"] = 0.4
    result = ingest(data)
    assert (result.accepted, result.updated, result.unchanged) == (0, 1, 3)
    changed = Reading.objects.get(meter=meter, timestamp=T0 + dt.timedelta(minutes=30))
    assert changed.kwh == pytest.approx(0.4)
    assert changed.quality == Quality.CORRECTED
    assert HourlyRollup.objects.get(meter=meter, hour=T0).kwh == pytest.approx(0.25 * 3 + 0.4)


@pytest.mark.django_db
def test_bad_rows_are_quarantined_with_reasons_and_never_block_good_rows(meter: Meter) -> None:
    MeterFactory.create(serial="CUM-1", register=Meter.Register.CUMULATIVE)
    data = [
        *rows("M-1", 2),
        {"meter": "NOPE", "timestamp": T0.isoformat(), "kwh": 0.1},
        {"meter": "M-1", "timestamp": "yesterday", "kwh": 0.1},
        {"meter": "M-1", "timestamp": "2031-01-01T00:00:00Z", "kwh": 0.1},
        {"meter": "M-1", "timestamp": "2025-02-03T00:07:00Z", "kwh": 0.1},
        {"meter": "M-1", "timestamp": "2025-02-03T01:00:00Z", "kwh": -0.1},
        {"meter": "M-1", "timestamp": "2025-02-03T01:15:00Z", "kwh": "NaN"},
        {"meter": "M-1", "timestamp": "2025-02-03T01:30:00Z", "kwh": 50},
        {"meter": "M-1", "timestamp": "2025-02-03T01:45:00Z", "kwh": 0.1, "voltage": 900},
        {"meter": "M-1", "timestamp": "2025-02-03T02:00:00Z", "kwh": 0.1, "power_factor": 1.4},
        {"meter": "M-1", "timestamp": "2025-02-03T02:15:00", "kwh": 0.1},
    ]
    result = ingest(data)
    assert (result.accepted, result.rejected) == (2, 10)
    reasons = {rejection.row: rejection.reason for rejection in result.rejections}
    assert reasons[2] == "unknown meter 'NOPE'"
    assert reasons[3].startswith("unparseable timestamp")
    assert reasons[4] == "timestamp is in the future"
    assert reasons[5] == "timestamp is not on the meter's 15-minute grid"
    assert reasons[6] == "negative energy"
    assert reasons[7] == "kWh missing or not a number"
    assert reasons[8] == "200.0 kW is impossible for a meter rated 5.0 kW"
    assert reasons[9].startswith("voltage out of range")
    assert reasons[10] == "power factor outside -1 to 1"
    assert reasons[11].startswith("timestamp has no UTC offset")
    stored = QuarantinedReading.objects.order_by("row_number")
    assert stored.count() == 10
    assert stored[0].raw["meter"] == "NOPE"
    assert stored[0].reason == "unknown meter 'NOPE'"


@pytest.mark.django_db
def test_quarantined_rows_can_be_reprocessed_after_a_fix(meter: Meter) -> None:
    ingest([{"meter": "M-2", "timestamp": T0.isoformat(), "kwh": 0.2}])
    item = QuarantinedReading.objects.get()
    MeterFactory.create(serial="M-2")
    result = quarantine_reprocess(ids=[item.id])
    assert result.accepted == 1
    item.refresh_from_db()
    assert item.status == QuarantinedReading.Status.REPROCESSED
    assert QuarantinedReading.objects.count() == 1


@pytest.mark.django_db
def test_reprocessing_a_still_bad_row_keeps_it_pending_with_the_new_reason(meter: Meter) -> None:
    ingest([{"meter": "M-1", "timestamp": T0.isoformat(), "kwh": -1}])
    item = QuarantinedReading.objects.get()
    result = quarantine_reprocess(ids=[item.id])
    assert result.rejected == 1
    item.refresh_from_db()
    assert item.status == QuarantinedReading.Status.PENDING
    assert QuarantinedReading.objects.count() == 1


@pytest.mark.django_db
def test_naive_timestamps_are_placed_with_the_given_timezone(meter: Meter) -> None:
    result = ingest([{"meter": "M-1", "timestamp": "2025-07-01 10:00:00", "kwh": 0.2}], timezone_name="Europe/London")
    assert result.accepted == 1
    assert Reading.objects.get(meter=meter).timestamp == dt.datetime(2025, 7, 1, 9, tzinfo=dt.UTC)


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "hours"), [(dt.date(2025, 3, 30), 23), (dt.date(2025, 10, 26), 25)])
def test_daily_rollups_follow_the_sites_local_day_on_dst_changes(day: dt.date, hours: int) -> None:
    site = SiteFactory.create(code="mad", timezone="Europe/Madrid")
    room = RoomFactory.create(hostel=HostelFactory.create(site=site))
    MeterFactory.create(serial="H-1", room=room, interval_minutes=60, rated_kw=5.0)
    # Every UTC hour from two days before to two days after gets 1 kWh.
    start = dt.datetime.combine(day - dt.timedelta(days=2), dt.time(), dt.UTC)
    ingest(rows("H-1", 24 * 5, start=start, step=60, kwh=1.0))
    daily = DailyRollup.objects.get(meter__serial="H-1", day=day)
    assert daily.readings == hours
    assert daily.kwh == pytest.approx(hours)
    assert DailyRollup.objects.get(meter__serial="H-1", day=day - dt.timedelta(days=1)).readings == 24


@pytest.mark.django_db
def test_rollups_are_updated_only_around_new_readings(meter: Meter) -> None:
    ingest(rows("M-1", 4))
    ingest(rows("M-1", 4, start=T0 + dt.timedelta(hours=1), kwh=0.5))
    hourly = dict(HourlyRollup.objects.filter(meter=meter).values_list("hour", "kwh"))
    assert hourly == {T0: pytest.approx(1.0), T0 + dt.timedelta(hours=1): pytest.approx(2.0)}
    assert HourlyRollup.objects.get(meter=meter, hour=T0).peak_kw == pytest.approx(1.0)
    assert DailyRollup.objects.get(meter=meter).kwh == pytest.approx(3.0)
    meter.refresh_from_db()
    assert meter.last_reading_at == T0 + dt.timedelta(hours=1, minutes=45)


def register_rows(serial: str, indexes: list[float], *, start: dt.datetime = T0) -> list[dict[str, Any]]:
    return [
        {"meter": serial, "timestamp": (start + dt.timedelta(minutes=15 * k)).isoformat(), "kwh": value}
        for k, value in enumerate(indexes)
    ]


@pytest.fixture
def register(db: None) -> Meter:
    return MeterFactory.create(serial="REG-1", register=Meter.Register.CUMULATIVE, rated_kw=10.0)


def interval_values(meter: Meter) -> list[float]:
    return [
        round(kwh, 6) for kwh in Reading.objects.filter(meter=meter).order_by("timestamp").values_list("kwh", flat=True)
    ]


@pytest.mark.django_db
def test_cumulative_register_becomes_interval_energy_across_batches(register: Meter) -> None:
    ingest(register_rows("REG-1", [100.0, 100.5, 101.0]))
    ingest(register_rows("REG-1", [101.25, 102.0], start=T0 + dt.timedelta(minutes=45)))
    assert interval_values(register) == [0.5, 0.5, 0.25, 0.75]
    assert Reading.objects.get(meter=register, timestamp=T0).timestamp == T0


@pytest.mark.django_db
def test_register_rollover_and_reset_never_give_negative_or_giant_intervals(register: Meter) -> None:
    result = ingest(register_rows("REG-1", [99999.0, 99999.5, 0.5, 1.0, 0.3, 0.6]))
    assert result.rejected == 0
    assert interval_values(register) == [0.5, 1.0, 0.5, 0.3, 0.3]
    reset = MeterEvent.objects.get(meter=register, kind=MeterEvent.Kind.REGISTER_RESET)
    assert reset.register_before == 1.0


@pytest.mark.django_db
def test_register_reset_recorded_in_the_ledger_is_used(register: Meter) -> None:
    MeterEvent.objects.create(
        meter=register,
        kind=MeterEvent.Kind.REGISTER_RESET,
        occurred_at=T0 + dt.timedelta(minutes=10),
        register_before=500.2,
        register_after=0.0,
    )
    ingest(register_rows("REG-1", [500.0, 0.4]))
    assert interval_values(register) == [0.6]


@pytest.mark.django_db
def test_meter_replacement_continues_without_a_spike(register: Meter) -> None:
    ingest(register_rows("REG-1", [1000.0, 1000.5, 1001.0]))
    swap = T0 + dt.timedelta(minutes=30)
    Meter.objects.filter(pk=register.pk).update(removed_at=swap + dt.timedelta(minutes=1))
    new = MeterFactory.create(
        serial="REG-2", room=register.room, register=Meter.Register.CUMULATIVE, rated_kw=10.0, installed_at=swap
    )
    MeterEvent.objects.create(
        meter=new, kind=MeterEvent.Kind.REPLACE, replaces=register, occurred_at=swap, register_after=7.0
    )
    result = ingest(register_rows("REG-2", [7.5, 8.0], start=swap + dt.timedelta(minutes=15)))
    assert result.rejected == 0
    assert interval_values(new) == [0.5, 0.5]
    assert min(Reading.objects.filter(meter__room=register.room).values_list("kwh", flat=True)) >= 0


@pytest.mark.django_db
def test_an_unexplained_huge_register_jump_is_rejected(register: Meter) -> None:
    result = ingest(register_rows("REG-1", [10.0, 9000.0]))
    assert result.rejected == 1
    assert "impossible" in result.rejections[0].reason


@pytest.mark.django_db
def test_short_gaps_are_filled_with_estimates_and_long_gaps_are_reported(meter: Meter) -> None:
    # Four weeks of history give the time-of-week profile.
    ingest(rows("M-1", 4 * 24 * 28, start=T0 - dt.timedelta(days=28), kwh=0.2))
    data = rows("M-1", 4 * 24, kwh=0.4)
    del data[8:12]  # one hour: filled
    del data[40:60]  # five hours: left
    result = ingest(data)
    estimates = Reading.objects.filter(meter=meter, quality=Quality.ESTIMATED)
    assert estimates.count() == 4
    assert estimates.order_by("timestamp")[0].kwh == pytest.approx(0.4)
    assert [gap.missing for gap in result.long_gaps] == [20]
    assert HourlyRollup.objects.get(meter=meter, hour=T0 + dt.timedelta(hours=2)).estimated == 4
    # A real reading later replaces the estimate and is raw, not "corrected".
    ingest([{"meter": "M-1", "timestamp": (T0 + dt.timedelta(hours=2)).isoformat(), "kwh": 0.3}])
    assert Reading.objects.get(meter=meter, timestamp=T0 + dt.timedelta(hours=2)).quality == Quality.RAW


@pytest.mark.django_db(transaction=True)
def test_readings_ingested_fires_once_per_committed_batch_and_not_on_rollback(meter: Meter) -> None:
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    readings_ingested.connect(receiver)
    try:
        ingest(rows("M-1", 3))
        assert len(calls) == 1
        assert calls[0]["meter_ids"] == [meter.id]
        assert calls[0]["start"] == T0
        assert calls[0]["end"] == T0 + dt.timedelta(minutes=30)
        with transaction.atomic():
            ingest(rows("M-1", 3, start=T0 + dt.timedelta(hours=1)))
            transaction.set_rollback(True)
        assert len(calls) == 1
        ingest(rows("NOPE", 1))  # nothing stored, nothing to detect
        assert len(calls) == 1
    finally:
        readings_ingested.disconnect(receiver)


@pytest.mark.django_db
def test_stale_meters_are_those_silent_for_several_intervals(meter: Meter) -> None:
    quiet = MeterFactory.create(serial="M-QUIET")
    ingest(rows("M-1", 1, start=NOW - dt.timedelta(minutes=30)))
    ingest(rows("M-QUIET", 1, start=NOW - dt.timedelta(hours=3)))
    stale = meters_stale(now=NOW)
    assert [item.serial for item in stale] == ["M-QUIET"]
    assert stale[0].meter_id == quiet.id
    assert stale[0].silent_for == dt.timedelta(hours=2, minutes=45)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_for_the_same_hour_keep_the_hourly_rollup_exact(meter: Meter) -> None:
    import threading

    from django.db import connection

    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def one(k: int) -> None:
        try:
            start.wait()
            ingest(rows("M-1", 1, start=T0 + dt.timedelta(minutes=15 * k), kwh=0.25))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    hourly = HourlyRollup.objects.get(meter=meter, hour=T0)
    assert (hourly.readings, hourly.kwh) == (4, pytest.approx(1.0))
    assert DailyRollup.objects.get(meter=meter).readings == 4


@pytest.mark.django_db
def test_stale_meter_check_task_sends_the_signal_with_typed_records(meter: Meter) -> None:
    from meters.signals import stale_meters_found
    from meters.tasks import meters_check_stale

    heard: list[Any] = []

    def receiver(**kwargs: Any) -> None:
        heard.extend(kwargs["meters"])

    stale_meters_found.connect(receiver)
    try:
        summary = meters_check_stale()
    finally:
        stale_meters_found.disconnect(receiver)
    assert summary["serials"] == ["M-1"]
    assert [item.meter_id for item in heard] == [meter.id]


@pytest.mark.django_db
def test_api_sized_batches_report_every_rejected_item(meter: Meter) -> None:
    data = [{"meter": "M-1", "timestamp": T0.isoformat(), "kwh": -1}] * 1500
    result = readings_ingest(rows=data, source="test", now=NOW, max_reasons=10_000)
    assert len(result.rejections) == 1500


def test_a_wide_parquet_is_read_in_batches_of_long_rows_not_of_file_rows(tmp_path: Path) -> None:
    """A batch of file rows becomes a row per meter and line: it shrinks with the meters, so memory stays flat."""
    hours = pd.date_range("2019-01-01", periods=12, freq="h", tz="UTC")
    frame = pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%dT%H:%M:%SZ")} | {f"B{i}": 1.0 + i for i in range(5)})
    path = tmp_path / "wide.parquet"
    frame.to_parquet(path)
    chunks = list(readings_chunks(path=path, mapping=ColumnMap(wide=True), chunk_rows=10))
    assert [len(chunk) for chunk in chunks] == [10] * 6  # two file rows (ten readings) at a time
    whole = pd.concat(chunks)
    assert sorted(whole["meter"].unique()) == [f"B{i}" for i in range(5)]
    assert sorted(whole["row"].unique()) == list(range(1, 13))  # each reading keeps its row of the file
