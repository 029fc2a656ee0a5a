"""The campus simulator behaves like a campus: physics, labelled incidents, determinism, the command."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import numpy as np
import pytest
from django.core.management import call_command

from customers.models import CustomerTruth, TransformerCondition, TransformerEvent
from meters.models import DailyRollup, HourlyRollup, Incident, Meter, Reading
from meters.services import rollups_rebuild
from meters.simulation import Summary, campus_simulate
from meters.simulation.calendar import day_kinds
from meters.simulation.condition import condition_readings
from meters.simulation.estate import TransformerPlan
from meters.simulation.incidents import ALL_KINDS, CONSUMPTION_KINDS
from meters.simulation.physics import room_parameters, rooms_load_kw
from meters.simulation.timeline import dark_mask, timeline_build
from meters.simulation.writer import Chunk, Rollups

START = dt.date(2026, 7, 1)  # summer vacation in Madrid: heat, and rooms empty or nearly


@dataclass
class MemorySink:
    """Keeps every chunk per meter key (a replaced meter's rows join its room's series)."""

    series: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def write(self, chunk: Chunk, rollups: Rollups | None) -> int:
        for row, serial in enumerate(chunk.serials):
            key = serial.removesuffix("-R1")
            valid = chunk.valid[row]
            values = {
                "kwh": chunk.kwh[row],
                "voltage": chunk.voltage[row],
                "current": chunk.current[row],
                "power_factor": chunk.power_factor[row],
            }
            if key in self.series:
                merged = self.series[key]
                for name, array in values.items():
                    merged[name] = np.where(valid, array, merged[name])
                merged["valid"] = merged["valid"] | valid
            else:
                self.series[key] = {**{n: np.where(valid, a, np.nan) for n, a in values.items()}, "valid": valid.copy()}
        return int(chunk.valid.sum())

    def close(self) -> None:
        return None


def simulate(seed: int = 11, *, incidents: bool = True) -> tuple[Summary, MemorySink]:
    sink = MemorySink()
    summary = campus_simulate(scale="tiny", seed=seed, start_date=START, incidents=incidents, sink=sink, progress=False)
    return summary, sink


@pytest.fixture(scope="module")
def with_incidents() -> tuple[Summary, MemorySink]:
    return simulate()


@pytest.fixture(scope="module")
def without_incidents() -> tuple[Summary, MemorySink]:
    return simulate(incidents=False)


def changed(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> np.ndarray:
    """Steps where two versions of a meter's series differ: a row appears or vanishes, or a value changes."""
    both = a["valid"] & b["valid"]
    diff = a["valid"] != b["valid"]
    for name in ("kwh", "voltage", "current", "power_factor"):
        diff |= both & ~np.isclose(a[name], b[name], rtol=0, atol=1e-9)
    return diff


def room_grid(days: int = 7) -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    timeline = timeline_build(timezone="Europe/Madrid", start_date=START, end=None, days=days)
    dark = dark_mask(timeline, latitude=40.45, longitude=-3.73).astype(np.float32)
    kinds = day_kinds(timeline.dates)
    return timeline, dark, kinds, np.full(timeline.steps, 22.0, dtype=np.float32)


def test_vacant_rooms_use_near_base_load() -> None:
    timeline, dark, kinds, mild = room_grid()
    serials = [f"RM-T{n}" for n in range(6)]
    present = np.zeros((6, timeline.days), dtype=np.int8)  # type: ignore[attr-defined]
    present[3:] = 2
    kw = rooms_load_kw(
        seed=5,
        timeline=timeline,  # type: ignore[arg-type]
        temperature=mild,
        dark=dark,
        kinds=kinds,
        serials=serials,
        habits=["all_day"] * 6,
        present=present,
    )
    for row, serial in enumerate(serials[:3]):
        base = room_parameters(5, serial, "all_day")["base_kw"]
        assert kw[row].mean() == pytest.approx(base, rel=0.05)
        assert kw[row].max() < 1.5 * base
    assert kw[3:].mean() > 3 * kw[:3].mean()


def test_hot_afternoons_raise_cooling_load() -> None:
    timeline, dark, kinds, mild = room_grid()
    serials = [s for s in (f"RM-H{n}" for n in range(40)) if room_parameters(3, s, "all_day")["has_ac"]][:5]
    hour = timeline.hour  # type: ignore[attr-defined]
    afternoon = (hour >= 14) & (hour < 18)
    hot = np.where(afternoon, 36.0, 22.0).astype(np.float32)
    present = np.full((len(serials), timeline.days), 2, dtype=np.int8)  # type: ignore[attr-defined]
    common = {"seed": 3, "timeline": timeline, "dark": dark, "kinds": kinds, "serials": serials, "present": present}
    cool = rooms_load_kw(temperature=mild, habits=["all_day"] * len(serials), **common)  # type: ignore[arg-type]
    warm = rooms_load_kw(temperature=hot, habits=["all_day"] * len(serials), **common)  # type: ignore[arg-type]
    assert (warm[:, afternoon].mean(axis=1) > cool[:, afternoon].mean(axis=1) + 0.5).all()
    np.testing.assert_array_equal(warm[:, ~afternoon], cool[:, ~afternoon])


def test_every_incident_kind_is_simulated(with_incidents: tuple[Summary, MemorySink]) -> None:
    summary, _ = with_incidents
    assert set(summary.incidents_by_kind) == set(ALL_KINDS)


def test_each_incident_kind_leaves_a_trace_at_its_labelled_time_and_nowhere_else(
    with_incidents: tuple[Summary, MemorySink], without_incidents: tuple[Summary, MemorySink]
) -> None:
    summary, dirty = with_incidents
    _, clean = without_incidents
    plan = summary.plan
    assert plan is not None
    steps = summary.timeline.steps if summary.timeline else 0
    allowed = {key: np.zeros(steps, dtype=bool) for key in clean.series}
    for incident in summary.incidents:
        meter = plan.meters[incident.slot]
        allowed[meter.serial][incident.start : incident.end] = True
        if incident.kind in CONSUMPTION_KINDS and meter.kind == "room":  # rooms are inside their main meter
            main = plan.meters[plan.main_meter(meter.hostel or 0)]
            allowed[main.serial][incident.start : incident.end] = True
    assert set(dirty.series) == set(clean.series)
    for key in clean.series:
        diff = changed(dirty.series[key], clean.series[key])
        outside = np.flatnonzero(diff & ~allowed[key])
        assert outside.size == 0, f"{key} changed outside its incidents at steps {outside[:5]}"
    for incident in summary.incidents:
        key = plan.meters[incident.slot].serial
        diff = changed(dirty.series[key], clean.series[key])
        assert diff[incident.start : incident.end].any(), f"{incident.kind} on {key} left no trace"


def test_the_same_seed_reproduces_exactly(with_incidents: tuple[Summary, MemorySink]) -> None:
    summary, first = with_incidents
    again_summary, again = simulate()
    assert [(i.slot, i.kind, i.start, i.end, i.magnitude) for i in summary.incidents] == [
        (i.slot, i.kind, i.start, i.end, i.magnitude) for i in again_summary.incidents
    ]
    assert first.series.keys() == again.series.keys()
    for key, series in first.series.items():
        for name, values in series.items():
            np.testing.assert_array_equal(values, again.series[key][name], err_msg=f"{key} {name}")


def test_a_different_seed_gives_a_different_campus_of_the_same_kind(with_incidents: tuple[Summary, MemorySink]) -> None:
    summary, first = with_incidents
    other_summary, other = simulate(seed=12)
    assert other_summary.hostels == summary.hostels
    assert sum(other_summary.rooms_by_beds.values()) == sum(summary.rooms_by_beds.values())
    assert not np.allclose(np.nan_to_num(first.series["MAIN-A"]["kwh"]), np.nan_to_num(other.series["MAIN-A"]["kwh"]))


def test_main_meter_sees_its_rooms_plus_common_areas(without_incidents: tuple[Summary, MemorySink]) -> None:
    summary, sink = without_incidents
    assert summary.plan is not None
    rooms = [m.serial for m in summary.plan.meters if m.kind == "room" and m.hostel == 0]
    main = sink.series["MAIN-A"]
    both = main["valid"] & np.logical_and.reduce([sink.series[r]["valid"] for r in rooms])
    total = np.sum([sink.series[r]["kwh"][both] for r in rooms], axis=0)
    assert (main["kwh"][both] > total).all()
    assert (main["kwh"][both] < 1.5 * total + 1.0).all()


@pytest.mark.django_db
def test_tiny_scale_prints_its_summary_and_fills_the_database(settings: object) -> None:
    settings.DEBUG = True  # type: ignore[attr-defined]
    out = io.StringIO()
    call_command("simulate_campus", scale="tiny", seed=4, start=START, no_progress=True, stdout=out)
    text = out.getvalue()
    assert "hostels: 2" in text
    assert "rooms: 24 (" in text
    assert "-bed" in text
    assert f"readings: {Reading.objects.count():,}" in text
    for kind in ALL_KINDS:
        assert f"    {kind}: " in text
    assert "Demo logins" in text
    assert set(Incident.objects.values_list("kind", flat=True)) == set(ALL_KINDS)
    # The register reset is delivered as its naive negative delta (detection flags it), never summed.
    assert Reading.objects.filter(kwh__lt=0).exists()
    assert not HourlyRollup.objects.filter(kwh__lt=0).exists()
    assert not DailyRollup.objects.filter(kwh__lt=0).exists()
    assert CustomerTruth.objects.filter(customer__kind="hostel_room").count() == 24
    assert TransformerEvent.objects.filter(kind="inspection").exists()
    conditions = TransformerCondition.objects.count()
    assert conditions >= 21
    assert f"transformer condition readings: {conditions:,}" in text
    assert not Meter.objects.filter(status="active", last_reading_at__isnull=True).exists()
    replaced = Incident.objects.get(kind="meter_replacement").meter
    assert replaced.status == "removed"
    assert Meter.objects.filter(serial=f"{replaced.serial}-R1", room=replaced.room).exists()


@pytest.mark.django_db
def test_bulk_rollups_match_the_rollup_service() -> None:
    campus_simulate(scale="tiny", seed=6, start_date=START, days=4, progress=False)
    meter = Meter.objects.get(serial="RM-A101")
    hourly = {r.hour: (r.kwh, r.readings, r.peak_kw, r.voltage_min, r.power_factor_avg) for r in meter.hourly.all()}
    daily = {r.day: (r.kwh, r.readings, r.peak_kw) for r in meter.daily.all()}
    rollups_rebuild(
        meter_ids=[meter.pk], start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), end=dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
    )
    assert hourly.keys() == set(HourlyRollup.objects.filter(meter=meter).values_list("hour", flat=True))
    for row in HourlyRollup.objects.filter(meter=meter):
        assert hourly[row.hour] == pytest.approx(
            (row.kwh, row.readings, row.peak_kw, row.voltage_min, row.power_factor_avg)
        )
    for row in DailyRollup.objects.filter(meter=meter):
        assert daily[row.day] == pytest.approx((row.kwh, row.readings, row.peak_kw))
    assert len(daily) == 4


def test_the_built_in_csv_sample_is_what_its_command_generates(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path)) / "sample.csv"
    campus_simulate(
        scale="tiny", seed=1, start_date=dt.date(2026, 3, 25), days=7, csv_path=out, csv_meters=4, progress=False
    )
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "sample_readings.csv"
    assert out.read_text() == fixture.read_text()
    assert fixture.read_text().startswith(
        "meter,timestamp,kwh,voltage,current,power_factor\nRM-A101,2026-03-25T00:00:00+01:00,"
    )


def test_local_days_follow_daylight_saving_time() -> None:
    spring = timeline_build(timezone="Europe/Madrid", start_date=dt.date(2026, 3, 28), end=None, days=3)
    autumn = timeline_build(timezone="Europe/Madrid", start_date=dt.date(2026, 10, 24), end=None, days=3)
    assert np.bincount(spring.day).tolist() == [96, 92, 96]
    assert np.bincount(autumn.day).tolist() == [96, 100, 96]
    assert spring.hour[spring.day == 1].max() == pytest.approx(23.75)


@pytest.mark.django_db
def test_seed_demo_simulates_an_empty_database_once_and_assigns_the_demo_wardens(settings: object) -> None:
    from django.contrib.auth import get_user_model

    from meters.models import Hostel, Site

    settings.DEBUG = True  # type: ignore[attr-defined]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    call_command("seed_demo", "--if-empty", "--days", "2", stdout=io.StringIO())
    call_command("seed_demo", "--if-empty", stdout=io.StringIO())
    assert Site.objects.count() == 1
    assert Hostel.objects.count() == 3
    users = get_user_model().objects
    assert users.get(username="warden_a").warden_hostels.get().name == "Hostel A"
    assert users.get(username="warden_b").warden_hostels.get().name == "Hostel B"
    assert users.get(username="admin").is_superuser
    latest = Meter.objects.filter(serial__startswith="RM-A").order_by("-last_reading_at").first()
    assert latest is not None
    assert latest.last_reading_at is not None


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=io.StringIO())


def test_a_developing_fault_heats_and_gasses_the_oil_before_its_failure_and_a_sudden_one_does_not() -> None:
    days = 240
    hours = np.arange(days * 24)
    kw = 300 + 150 * np.sin(2 * np.pi * (hours % 24 - 8) / 24)  # a daily cycle on a 630 kVA unit
    temp = 18 + 7 * np.sin(2 * np.pi * (hours % 24 - 10) / 24)
    plan = TransformerPlan("TX-T", "Test", 630, 2000, "yard")
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

    def readings(developing: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        rows = condition_readings(
            seed=7,
            index=0,
            transformer=plan,
            hourly_kw=kw,
            hourly_temp=temp,
            start=start,
            now_year=2025,
            developing=developing,
        )
        assert len(rows) == days
        assert rows[0].measured_at.date() == start.date()
        return np.array([r.top_oil_c for r in rows]), np.array([r.dissolved_gas_ppm for r in rows])

    oil, gas = readings([(180, 200)])  # warned on day 180, failed on day 200
    quiet_oil, quiet_gas = readings([])  # the same unit with a sudden failure: no precursor
    assert 40 < np.median(quiet_oil) < 100
    assert gas[195:200].mean() > gas[100:110].mean() + 300  # gas builds towards the failure
    assert oil[195:200].mean() > oil[100:110].mean() + 3
    assert gas[100:110].mean() == pytest.approx(quiet_gas[100:110].mean(), rel=0.2)  # before the onset
    assert gas[205:215].mean() < gas[195:200].mean() / 2  # repaired: back to normal
    assert abs(quiet_gas[195:200].mean() - quiet_gas[100:110].mean()) < 150


def test_university_scale_is_five_thousand_rooms_in_halls_on_three_sites() -> None:
    from meters.simulation.estate import estate_plan
    from meters.simulation.scales import SCALES
    from meters.simulation.timeline import STEPS_PER_HOUR

    spec = SCALES["university"]
    plan = estate_plan(seed=1, scale=spec, start=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert spec.rooms == len(plan.rooms) == 5000
    assert [s.code for s in plan.sites] == ["sim", "sim2", "sim3"]
    halls = [sum(1 for h in plan.hostels if h.site == s) for s in range(3)]
    assert halls == [9, 8, 8]
    assert {sum(1 for r in plan.rooms if r.hostel == h) for h in range(len(plan.hostels))} == {200}
    beds = sum(r.beds for r in plan.rooms)
    assert 15_000 < beds < 20_000
    kinds = {k: sum(1 for m in plan.meters if m.kind == k) for k in ("room", "hostel_main", "feeder")}
    assert kinds == {"room": 5000, "hostel_main": 25, "feeder": 14}
    assert len(plan.transformers) == 26  # one per hall and the estate's
    year = sum(kinds.values()) * spec.days * 24 * STEPS_PER_HOUR
    assert 170e6 < year < 180e6  # the "about 175 million readings a year"


def test_smaller_scales_keep_one_site() -> None:
    from meters.simulation.estate import estate_plan
    from meters.simulation.scales import SCALES

    plan = estate_plan(seed=1, scale=SCALES["large"], start=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert [s.code for s in plan.sites] == ["sim"]
    assert {h.site for h in plan.hostels} == {0}


@pytest.mark.postgres
@pytest.mark.django_db
def test_simulated_months_land_in_partitions_of_their_own_with_every_index() -> None:
    from django.db import connection

    from meters.partitions import DEFAULT_PARTITION

    campus_simulate(scale="tiny", seed=3, start_date=dt.date(2024, 2, 27), days=4, progress=False)
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {DEFAULT_PARTITION}")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM meters_reading_p2024_02")
        assert cur.fetchone()[0] > 0
        cur.execute("SELECT count(*) FROM meters_reading_p2024_03")
        assert cur.fetchone()[0] > 0
        # bulk_load_mode drops the timestamp index and builds it again: on every partition, and valid.
        cur.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE (t.relname = 'meters_reading' OR t.relname LIKE 'meters_reading_p%%') "
            "AND pg_get_indexdef(i.indexrelid) NOT LIKE '%%UNIQUE%%'"
        )
        found = cur.fetchall()
        cur.execute(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'meters_reading'::regclass AND c.relname LIKE 'meters_reading_p%%'"
        )
        partitions = cur.fetchone()[0]
    assert all(valid for _, valid in found), found
    assert len(found) == partitions + 1  # the parent's and one per monthly partition


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_simulated_estate_is_analyzed_so_its_pages_are_planned_on_its_real_size() -> None:
    from django.db import connection

    campus_simulate(scale="tiny", seed=3, start_date=dt.date(2024, 2, 27), days=2, progress=False)
    tables = ["meters_meter", "meters_room", "customers_customer", "meters_hostelhourlyrollup", "meters_occupancy"]
    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT tablename FROM pg_stats WHERE tablename = ANY(%s)", [tables])
        analyzed = {row[0] for row in cur.fetchall()}
    assert analyzed == set(tables)
