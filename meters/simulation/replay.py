"""Keep a simulated campus alive: readings for "now", delivered as meters would deliver them.

`deliver_batch` is the one door into the database. Until the ingestion service (issue 4) lands
it upserts readings and rebuilds the rollups of the touched days itself; afterwards it should
only call that service.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from django.db import close_old_connections, transaction
from django.db.models import Max, Q

from customers.models import CustomerTruth
from meters.models import Incident, Meter, Occupancy, Quality, Reading, Site, Weather
from meters.services import rollups_rebuild
from meters.simulation.calendar import day_kinds
from meters.simulation.estate import MeterPlan
from meters.simulation.incidents import CONSUMPTION_KINDS, IncidentPlan, apply_consumption, apply_faults
from meters.simulation.physics import common_areas_kw, electrical, feeder_load_kw, rooms_load_kw, supply_voltage
from meters.simulation.rng import rng_for
from meters.simulation.timeline import STEP_SECONDS, Timeline, dark_mask, timeline_build

logger = logging.getLogger(__name__)
SITE_CODE = "sim"
MAX_CATCH_UP = dt.timedelta(days=2)
LIVE_KINDS = (
    "spike",
    "sustained_excess",
    "night_usage",
    "dead_meter",
    "voltage_sag",
    "voltage_swell",
    "low_power_factor",
)
LIVE_DURATION_STEPS = {
    "spike": (1, 4),
    "sustained_excess": (8, 48),
    "night_usage": (96, 192),
    "dead_meter": (4, 24),
    "voltage_sag": (1, 4),
    "voltage_swell": (1, 4),
    "low_power_factor": (16, 96),
    "main_imbalance": (16, 96),
}


@dataclass(frozen=True)
class LiveReading:
    """One interval reading as a meter sends it."""

    meter_id: int
    timestamp: dt.datetime
    kwh: float
    voltage: float
    current: float
    power_factor: float


def deliver_batch(readings: Sequence[LiveReading]) -> int:
    """Store readings (upsert on meter and time) and refresh the rollups of the local days they touch."""
    if not readings:
        return 0
    with transaction.atomic():
        Reading.objects.bulk_create(
            [
                Reading(
                    meter_id=r.meter_id,
                    timestamp=r.timestamp,
                    kwh=r.kwh,
                    voltage=r.voltage,
                    current=r.current,
                    power_factor=r.power_factor,
                    quality=Quality.RAW,
                )
                for r in readings
            ],
            update_conflicts=True,
            unique_fields=["meter", "timestamp"],
            update_fields=["kwh", "voltage", "current", "power_factor", "quality"],
            batch_size=2000,
        )
        tz = ZoneInfo(Site.objects.filter(code=SITE_CODE).values_list("timezone", flat=True).first() or "UTC")
        first = min(r.timestamp for r in readings).astimezone(tz).date()
        last = max(r.timestamp for r in readings).astimezone(tz).date()
        start = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
        rollups_rebuild(meter_ids={r.meter_id for r in readings}, start=start, end=end)
    return len(readings)


@dataclass
class _Meter:
    id: int
    serial: str
    kind: str
    hostel_id: int | None
    room_id: int | None
    habit: str
    transformer_kva: int
    transformer_code: str


@dataclass
class CampusReplay:
    """Generates what the simulated campus's meters measure between the last delivery and now."""

    seed: int = 1
    speed: float = 1.0
    incidents_per_meter_day: float = 0.05
    late_share: float = 0.02
    meters: list[_Meter] = field(default_factory=list)
    held: list[tuple[int, list[LiveReading]]] = field(default_factory=list)
    ticks: int = 0

    def load(self) -> bool:
        """Read the simulated campus; False when there is none."""
        site = Site.objects.filter(code=SITE_CODE).first()
        if site is None:
            return False
        self.site = site
        habits = dict(CustomerTruth.objects.values_list("customer_id", "habit"))
        seeds = CustomerTruth.objects.values_list("seed", flat=True)
        self.seed = int(seeds.first() or self.seed)
        rows = (
            Meter.objects.filter(removed_at__isnull=True, status=Meter.Status.ACTIVE, transformer__isnull=False)
            .filter(Q(hostel__site=site) | Q(hostel__isnull=True, customer__truth__seed=self.seed))
            .select_related("transformer")
            .order_by("id")
        )
        self.meters = [
            _Meter(
                id=m.id,
                serial=m.serial,
                kind=m.kind,
                hostel_id=m.hostel_id,
                room_id=m.room_id,
                habit=habits.get(m.customer_id or 0, "low_user"),
                transformer_kva=m.transformer.capacity_kva if m.transformer else 100,
                transformer_code=m.transformer.code if m.transformer else "TX",
            )
            for m in rows
            if m.kind in ("room", "hostel_main", "feeder")
        ]
        last = Meter.objects.filter(id__in=[m.id for m in self.meters]).aggregate(last=Max("last_reading_at"))["last"]
        self.cursor = (last + dt.timedelta(seconds=STEP_SECONDS)) if last else None
        self.anchor_wall = time.monotonic()
        self.anchor_sim = dt.datetime.now(dt.UTC)
        return bool(self.meters)

    def clock(self) -> dt.datetime:
        """The simulated now: real time, or faster from when the replay started."""
        if self.speed == 1.0:
            return dt.datetime.now(dt.UTC)
        return self.anchor_sim + dt.timedelta(seconds=(time.monotonic() - self.anchor_wall) * self.speed)

    def tick(self) -> int:
        """Generate and deliver every interval that ended since the last tick; returns readings delivered."""
        now = self.clock()
        end = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=now.minute % 15)
        cursor = self.cursor or end - dt.timedelta(seconds=STEP_SECONDS)
        cursor = max(cursor, end - MAX_CATCH_UP)
        self.ticks += 1
        delivered = 0
        if cursor < end:
            readings = self._generate(cursor, end)
            on_time, late = self._split_late(readings)
            delivered += deliver_batch(on_time)
            if late:
                self.held.append((self.ticks + 2, late))
            self.cursor = end
        due = [batch for at, batch in self.held if at <= self.ticks]
        self.held = [(at, batch) for at, batch in self.held if at > self.ticks]
        for batch in due:
            delivered += deliver_batch(batch)
        return delivered

    def _split_late(self, readings: list[LiveReading]) -> tuple[list[LiveReading], list[LiveReading]]:
        """A few meters' batches arrive a couple of ticks late, as they do over flaky links."""
        rng = rng_for(self.seed, "late", self.ticks, int(time.time()))
        late_meters = {m.id for m in self.meters if rng.random() < self.late_share}
        return [r for r in readings if r.meter_id not in late_meters], [
            r for r in readings if r.meter_id in late_meters
        ]

    def _generate(self, cursor: dt.datetime, end: dt.datetime) -> list[LiveReading]:
        tz = ZoneInfo(self.site.timezone)
        timeline = timeline_build(timezone=self.site.timezone, start_date=cursor.astimezone(tz).date(), end=end, days=1)
        first = timeline.step_of(cursor)
        tick_seed = int(rng_for(self.seed, "replay", int(cursor.timestamp())).integers(0, 2**62))
        temperature = self._temperature(timeline)
        dark = dark_mask(timeline, latitude=self.site.latitude, longitude=self.site.longitude).astype(np.float32)
        kinds = day_kinds(timeline.dates)
        incidents = self._incidents(timeline, first, tick_seed)
        out: list[LiveReading] = []
        rooms_by_hostel: dict[int, list[_Meter]] = {}
        for meter in self.meters:
            if meter.kind == "room" and meter.hostel_id is not None:
                rooms_by_hostel.setdefault(meter.hostel_id, []).append(meter)
        occupants = dict(
            Occupancy.objects.filter(room_id__in=[m.room_id for m in self.meters if m.room_id], start__lte=cursor)
            .order_by("room_id", "start")
            .values_list("room_id", "occupants")
        )
        for hostel_id, rooms in rooms_by_hostel.items():
            rng = rng_for(tick_seed, "presence", hostel_id)
            roster = np.array([occupants.get(m.room_id or 0, 0) for m in rooms])
            present = rng.binomial(np.repeat(roster[:, None], timeline.days, axis=1), 0.9).astype(np.int8)
            kw = rooms_load_kw(
                seed=tick_seed,
                timeline=timeline,
                temperature=temperature,
                dark=dark,
                kinds=kinds,
                serials=[m.serial for m in rooms],
                habits=[m.habit for m in rooms],
                present=present,
            )
            clean = kw.sum(axis=0)
            for row, meter in enumerate(rooms):
                apply_consumption(
                    kw[row], [i for i in incidents.get(meter.id, []) if i.kind in CONSUMPTION_KINDS], timeline
                )
            share = present.sum(axis=0) / max(int(roster.sum()), 1)
            common = common_areas_kw(
                seed=tick_seed,
                serial=str(hostel_id),
                timeline=timeline,
                dark=dark,
                rooms=len(rooms),
                occupancy_share=share,
            )
            mains = [m for m in self.meters if m.kind == "hostel_main" and m.hostel_id == hostel_id]
            capacity = mains[0].transformer_kva if mains else 100
            supply = supply_voltage(
                seed=tick_seed, code=str(hostel_id), load_kw=1.01 * (common + clean), capacity_kva=capacity
            )
            for main in mains:
                main_kw = 1.01 * (common + kw.sum(axis=0))
                apply_consumption(main_kw, incidents.get(main.id, []), timeline)
                out += self._report(main, main_kw, supply, incidents, timeline, first, tick_seed)
            for row, meter in enumerate(rooms):
                out += self._report(meter, kw[row], supply, incidents, timeline, first, tick_seed)
        feeders = [m for m in self.meters if m.kind == "feeder"]
        if feeders:
            loads = [
                feeder_load_kw(
                    seed=tick_seed,
                    serial=m.serial,
                    habit=m.habit,
                    timeline=timeline,
                    temperature=temperature,
                    kinds=kinds,
                )
                for m in feeders
            ]
            supply = supply_voltage(
                seed=tick_seed, code="estate", load_kw=np.sum(loads, axis=0), capacity_kva=feeders[0].transformer_kva
            )
            for meter, load in zip(feeders, loads, strict=True):
                apply_consumption(
                    load, [i for i in incidents.get(meter.id, []) if i.kind in CONSUMPTION_KINDS], timeline
                )
                out += self._report(meter, load, supply, incidents, timeline, first, tick_seed)
        return out

    def _report(
        self,
        meter: _Meter,
        kw: np.ndarray,
        supply: np.ndarray,
        incidents: dict[int, list[IncidentPlan]],
        timeline: Timeline,
        first: int,
        tick_seed: int,
    ) -> list[LiveReading]:
        voltage, pf = electrical(seed=tick_seed, serial=meter.serial, kind=meter.kind, kw=kw, supply=supply)
        plan = MeterPlan(meter.serial, meter.kind, None, None, None, 0, 10.0, timeline.start)
        out = apply_faults(
            seed=tick_seed, meter=plan, kw=kw, voltage=voltage, pf=pf, incidents=incidents.get(meter.id, [])
        )
        return [
            LiveReading(
                meter_id=meter.id,
                timestamp=timeline.at(int(t)),
                kwh=float(out.kwh[t]),
                voltage=float(out.voltage[t]),
                current=float(out.current[t]),
                power_factor=float(out.power_factor[t]),
            )
            for t in np.flatnonzero(out.valid[first:]) + first
        ]

    def _incidents(self, timeline: Timeline, first: int, tick_seed: int) -> dict[int, list[IncidentPlan]]:
        """Active simulator incidents of this window, after maybe starting some new ones now."""
        window_start, window_end = timeline.at(first), timeline.end
        minutes = (window_end - window_start).total_seconds() / 60
        rng = rng_for(tick_seed, "live-incidents")
        expected = self.incidents_per_meter_day * len(self.meters) * minutes / 1440
        new: list[Incident] = []
        for _ in range(int(rng.poisson(expected))):
            meter = self.meters[int(rng.integers(len(self.meters)))]
            kind = "main_imbalance" if meter.kind == "hostel_main" else str(rng.choice(LIVE_KINDS))
            lo, hi = LIVE_DURATION_STEPS[kind]
            length = int(rng.integers(lo, hi + 1))
            magnitude = {
                "spike": rng.uniform(2.5, 6.0),
                "sustained_excess": rng.uniform(0.8, 2.0),
                "night_usage": rng.uniform(1.2, 2.5),
                "dead_meter": 0.0,
                "voltage_sag": rng.uniform(0.78, 0.9),
                "voltage_swell": rng.uniform(1.08, 1.13),
                "low_power_factor": rng.uniform(0.55, 0.72),
                "main_imbalance": rng.uniform(0.8, 3.0),
            }[kind]
            new.append(
                Incident(
                    meter_id=meter.id,
                    kind=kind,
                    start=window_start,
                    end=window_start + dt.timedelta(seconds=STEP_SECONDS * length),
                    magnitude=round(float(magnitude), 3),
                    source=Incident.Source.SIMULATOR,
                    note="Injected by replay.",
                )
            )
        Incident.objects.bulk_create(new)
        active = Incident.objects.filter(
            meter_id__in=[m.id for m in self.meters],
            source=Incident.Source.SIMULATOR,
            start__lt=window_end,
            end__gt=window_start,
            kind__in=(*LIVE_KINDS, "main_imbalance"),
        )
        by_meter: dict[int, list[IncidentPlan]] = {}
        for incident in active:
            start = max(timeline.step_of(incident.start), 0)
            end = min(math.ceil((incident.end - timeline.start).total_seconds() / STEP_SECONDS), timeline.steps)
            if end > start:
                plan = IncidentPlan(-1, incident.kind, start, end, float(incident.magnitude or 0.0))
                by_meter.setdefault(incident.meter_id, []).append(plan)
        return by_meter

    def _temperature(self, timeline: Timeline) -> np.ndarray:
        """Hourly weather continued from the last stored hour (persistence towards the season's normal)."""
        last = Weather.objects.filter(site=self.site).order_by("-timestamp").first()
        hours = math.ceil(timeline.steps / 4) + 1
        stamps = [timeline.start + dt.timedelta(hours=h) for h in range(hours)]
        known = dict(
            Weather.objects.filter(site=self.site, timestamp__gte=stamps[0], timestamp__lte=stamps[-1]).values_list(
                "timestamp", "temperature_c"
            )
        )
        previous = last.temperature_c if last else 15.0
        tz = ZoneInfo(self.site.timezone)
        rng = rng_for(self.seed, "live-weather", int(stamps[0].timestamp()))
        values, rows = [], []
        for stamp in stamps:
            if stamp in known:
                previous = known[stamp]
            else:
                local = stamp.astimezone(tz)
                doy = local.timetuple().tm_yday
                season = math.sin(2 * math.pi * (doy - 110) / 365.0)
                normal = 14.5 + 10.5 * season + (5.5 + 2.5 * season) * math.cos(2 * math.pi * (local.hour - 16) / 24)
                previous = round(0.8 * previous + 0.2 * normal + float(rng.normal(0, 0.3)), 1)
                if stamp <= self.clock():
                    rows.append(
                        Weather(
                            site=self.site,
                            timestamp=stamp,
                            temperature_c=previous,
                            humidity_pct=round(max(8.0, min(100.0, 78 - 1.7 * (previous - 10))), 1),
                            rainfall_mm=0.0,
                            source=Weather.Source.SIMULATED,
                        )
                    )
            values.append(previous)
        Weather.objects.bulk_create(rows, ignore_conflicts=True)
        grid = np.arange(timeline.steps) / 4.0
        return np.interp(grid, np.arange(hours), values).astype(np.float32)


class ReplayThread(threading.Thread):
    """Runs the replay in the web process (embedded `make run`); stops when asked."""

    def __init__(self, *, speed: float = 1.0, interval: float = 15.0) -> None:
        super().__init__(name="campus-replay", daemon=True)
        self.replay = CampusReplay(speed=speed)
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            replay_loop(self.replay, stop=self.stopping, interval=self.interval)
        finally:
            close_old_connections()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.join(timeout)


def replay_loop(replay: CampusReplay, *, stop: threading.Event, interval: float) -> None:
    """Tick until stopped; a failed tick is logged and retried, never fatal."""
    loaded = False
    while not stop.is_set():
        try:
            close_old_connections()
            loaded = loaded or replay.load()
            if loaded:
                delivered = replay.tick()
                if delivered:
                    logger.info("replay delivered %d readings up to %s", delivered, replay.cursor)
        except Exception:
            logger.exception("replay tick failed; trying again")
        stop.wait(interval)
