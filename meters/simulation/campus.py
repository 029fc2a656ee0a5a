"""The simulation run: plan the campus, generate each hostel's signal, write it in bulk, summarise."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from tqdm import tqdm

from meters.ingest.hostel_rollups import hostel_rollups_rebuild
from meters.models import DailyRollup, HourlyRollup, Reading
from meters.partitions import reading_partitions_ensure
from meters.simulation import persist
from meters.simulation.calendar import Roster, day_kinds, roster_build
from meters.simulation.condition import ConditionPlan, condition_readings
from meters.simulation.estate import EstatePlan, estate_plan
from meters.simulation.incidents import CONSUMPTION_KINDS, IncidentPlan, apply_consumption, apply_faults, incidents_plan
from meters.simulation.interventions import InterventionSpec, interventions_apply
from meters.simulation.network import TransformerEventPlan, transformer_history
from meters.simulation.physics import common_areas_kw, electrical, feeder_load_kw, rooms_load_kw, supply_voltage
from meters.simulation.scales import SCALES
from meters.simulation.timeline import STEPS_PER_HOUR, Timeline, dark_mask, timeline_build
from meters.simulation.weather import weather_build
from meters.simulation.writer import (
    Chunk,
    CsvSink,
    DatabaseSink,
    Sink,
    bulk_load_mode,
    rollups_compute,
    tables_analyze,
)

CHUNK_METERS = 16
TIMEZONE = "Europe/Madrid"  # DST and hot summers: both cooling load and clock changes matter


@dataclass
class Summary:
    """What a simulation wrote, for the command to print."""

    scale: str
    seed: int
    start: dt.datetime
    end: dt.datetime
    hostels: int = 0
    rooms_by_beds: dict[int, int] = field(default_factory=dict)
    meters_by_kind: dict[str, int] = field(default_factory=dict)
    readings: int = 0
    weather_rows: int = 0
    incidents_by_kind: dict[str, int] = field(default_factory=dict)
    transformer_events_by_kind: dict[str, int] = field(default_factory=dict)
    condition_readings: int = 0
    seconds: float = 0.0
    plan: EstatePlan | None = field(default=None, repr=False)
    incidents: list[IncidentPlan] = field(default_factory=list, repr=False)
    timeline: Timeline | None = field(default=None, repr=False)


def _timeline_for(
    *, scale_days: int, timezone: str, start_date: dt.date | None, days: int | None, now: dt.datetime | None
) -> Timeline:
    days = days or scale_days
    if start_date is not None:
        return timeline_build(timezone=timezone, start_date=start_date, end=None, days=days)
    now = now or dt.datetime.now(dt.UTC)
    end = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=now.minute % 15)
    local_end = end.astimezone(ZoneInfo(timezone)).date()
    return timeline_build(timezone=timezone, start_date=local_end - dt.timedelta(days=days), end=end, days=days)


def _months_between(start: dt.datetime, end: dt.datetime) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


class _Run:
    """State of one simulation while it generates hostel after hostel."""

    def __init__(
        self,
        *,
        seed: int,
        plan: EstatePlan,
        timeline: Timeline,
        incidents: list[IncidentPlan],
        sink: Sink,
        meter_ids: list[int],
        rollups: bool,
        progress: bool,
        interventions: list[InterventionSpec] | None = None,
    ) -> None:
        self.seed = seed
        self.interventions = interventions or []
        self.intervention_truth: list[IncidentPlan] = []
        self.plan = plan
        self.timeline = timeline
        self.sink = sink
        self.meter_ids = meter_ids
        self.rollups = rollups
        self.by_slot: dict[int, list[IncidentPlan]] = {}
        for incident in incidents:
            self.by_slot.setdefault(incident.slot, []).append(incident)
        self.steps_index = np.arange(timeline.steps)
        self.readings = 0
        self.last: dict[int, dt.datetime] = {}
        self.transformer_kw: dict[int, np.ndarray] = {}
        self.transformer_volts: dict[int, np.ndarray] = {}
        slots = sum(1 for m in plan.meters if m.replaces is None)
        self.bar = tqdm(total=slots, desc="meters", unit="meter", disable=not progress)

    def consumption(self, slot: int) -> list[IncidentPlan]:
        return [i for i in self.by_slot.get(slot, []) if i.kind in CONSUMPTION_KINDS]

    def chunk(self, slots: list[int], kw: np.ndarray, supply: np.ndarray) -> Chunk:
        """Reported values of these meter slots; a replaced meter's slot becomes two rows."""
        rows: list[tuple[int, np.ndarray]] = []
        reported = []
        for row, slot in enumerate(slots):
            meter = self.plan.meters[slot]
            voltage, pf = electrical(seed=self.seed, serial=meter.serial, kind=meter.kind, kw=kw[row], supply=supply)
            out = apply_faults(
                seed=self.seed, meter=meter, kw=kw[row], voltage=voltage, pf=pf, incidents=self.by_slot.get(slot, [])
            )
            swap = next((i for i in self.by_slot.get(slot, []) if i.kind == "meter_replacement"), None)
            if swap is not None and swap.new_meter is not None:
                rows.append((slot, out.valid & (self.steps_index < swap.start)))
                rows.append((swap.new_meter, out.valid & (self.steps_index >= swap.end)))
                reported += [out, out]
            else:
                rows.append((slot, out.valid))
                reported.append(out)
        return Chunk(
            meter_ids=np.array([self.meter_ids[slot] for slot, _ in rows], dtype=np.int64),
            serials=[self.plan.meters[slot].serial for slot, _ in rows],
            kwh=np.stack([r.kwh for r in reported]),
            voltage=np.stack([r.voltage for r in reported]),
            current=np.stack([r.current for r in reported]),
            power_factor=np.stack([r.power_factor for r in reported]),
            quality=np.stack([r.quality for r in reported]),
            valid=np.stack([valid for _, valid in rows]),
        )

    def emit(self, slots: list[int], kw: np.ndarray, supply: np.ndarray) -> None:
        """Write these meter slots in chunks, with their rollups, committing each chunk."""
        for lo in range(0, len(slots), CHUNK_METERS):
            chunk = self.chunk(slots[lo : lo + CHUNK_METERS], kw[lo : lo + CHUNK_METERS], supply)
            rollups = rollups_compute(chunk, self.timeline) if self.rollups else None
            self.readings += self.sink.write(chunk, rollups)
            if rollups is not None:
                for meter_id, step in zip(chunk.meter_ids.tolist(), rollups.last_step.tolist(), strict=True):
                    if step >= 0:
                        self.last[meter_id] = self.timeline.at(step)
            self.bar.update(len(slots[lo : lo + CHUNK_METERS]))

    def hostels(
        self, *, temperature: np.ndarray, dark: np.ndarray, kinds: np.ndarray, roster: Roster, capacities: np.ndarray
    ) -> None:
        """Rooms first, then the main meter that sees them all plus the common areas."""
        plan, seed, timeline = self.plan, self.seed, self.timeline
        for h, hostel in enumerate(plan.hostels):
            rooms = [r for r, room in enumerate(plan.rooms) if room.hostel == h]
            slots = [plan.room_meter(r) for r in rooms]
            kw = rooms_load_kw(
                seed=seed,
                timeline=timeline,
                temperature=temperature,
                dark=dark,
                kinds=kinds,
                serials=[plan.meters[s].serial for s in slots],
                habits=[plan.rooms[r].habit for r in rooms],
                present=roster.present[rooms],
            )
            clean_total = kw.sum(axis=0)
            for row, slot in enumerate(slots):
                apply_consumption(kw[row], self.consumption(slot), timeline)
            main = plan.main_meter(h)
            share = roster.present[rooms].sum(axis=0) / max(int(capacities[rooms].sum()), 1)
            common = common_areas_kw(
                seed=seed, serial=hostel.code, timeline=timeline, dark=dark, rooms=len(rooms), occupancy_share=share
            )
            self.intervention_truth += interventions_apply(
                specs=self.interventions,
                hostel=h,
                rooms_kw=kw,
                common_kw=common,
                timeline=timeline,
                main_slot=main,
                room_slots=slots,
            )
            main_kw = 1.01 * (common + kw.sum(axis=0))
            apply_consumption(main_kw, self.by_slot.get(main, []), timeline)
            tx = plan.meters[main].transformer
            transformer = plan.transformers[tx]
            # The supply follows the usual load, so an incident shows only on its own meters.
            supply = supply_voltage(
                seed=seed,
                code=transformer.code,
                load_kw=1.01 * (common + clean_total),
                capacity_kva=transformer.capacity_kva,
            )
            self.transformer_kw[tx], self.transformer_volts[tx] = main_kw, supply
            self.emit([main, *slots], np.vstack([main_kw[None, :], kw]), supply)

    def feeders(self, *, temperature: np.ndarray, kinds: np.ndarray) -> None:
        """Other customers of the campus network, on the estate transformer."""
        plan = self.plan
        feeders = [i for i, m in enumerate(plan.meters) if m.kind == "feeder"]
        if not feeders:
            return
        kw = np.vstack(
            [
                feeder_load_kw(
                    seed=self.seed,
                    serial=plan.meters[i].serial,
                    habit=plan.customers[plan.meters[i].customer or 0].habit,
                    timeline=self.timeline,
                    temperature=temperature,
                    kinds=kinds,
                )
                for i in feeders
            ]
        )
        clean_total = kw.sum(axis=0)
        for row, slot in enumerate(feeders):
            apply_consumption(kw[row], self.consumption(slot), self.timeline)
        tx = plan.meters[feeders[0]].transformer
        total = kw.sum(axis=0)
        transformer = plan.transformers[tx]
        supply = supply_voltage(
            seed=self.seed, code=transformer.code, load_kw=clean_total, capacity_kva=transformer.capacity_kva
        )
        self.transformer_kw[tx], self.transformer_volts[tx] = total, supply
        self.emit(feeders, kw, supply)

    def transformer_events(
        self, *, temperature: np.ndarray
    ) -> tuple[list[TransformerEventPlan], list[bool], list[ConditionPlan]]:
        """Each transformer's events, whether it ends failed, and its daily condition readings."""
        events: list[TransformerEventPlan] = []
        failed: list[bool] = []
        conditions: list[ConditionPlan] = []
        for tx, transformer in enumerate(self.plan.transformers):
            load = self.transformer_kw.get(tx, np.zeros(0))
            hours = load.shape[0] // STEPS_PER_HOUR
            hourly_kw = load[: hours * STEPS_PER_HOUR].reshape(hours, STEPS_PER_HOUR).mean(axis=1)
            volts = self.transformer_volts.get(tx, np.zeros(0))[: hours * STEPS_PER_HOUR]
            hourly_v = volts.reshape(hours, STEPS_PER_HOUR).min(axis=1)
            hourly_temp = temperature[: hours * STEPS_PER_HOUR].reshape(hours, STEPS_PER_HOUR).mean(axis=1)
            story = transformer_history(
                seed=self.seed,
                index=tx,
                transformer=transformer,
                hourly_kw=hourly_kw,
                hourly_voltage=hourly_v,
                start=self.timeline.start,
                now_year=self.timeline.end.year,
            )
            events += story.events
            failed.append(story.failed)
            conditions += condition_readings(
                seed=self.seed,
                index=tx,
                transformer=transformer,
                hourly_kw=hourly_kw,
                hourly_temp=hourly_temp,
                start=self.timeline.start,
                now_year=self.timeline.end.year,
                developing=story.developing,
            )
        return events, failed, conditions


def campus_simulate(
    *,
    scale: str,
    seed: int,
    start_date: dt.date | None = None,
    days: int | None = None,
    now: dt.datetime | None = None,
    incidents: bool = True,
    csv_path: Path | None = None,
    csv_meters: int = 4,
    sink: Sink | None = None,
    progress: bool = True,
    log: Callable[[str], None] = lambda _: None,
    interventions: list[InterventionSpec] | None = None,
) -> Summary:
    """Simulate a whole campus into the database.

    With csv_path, a few room meters go to a CSV file instead; with sink, every chunk goes to that
    sink (tests keep them in memory). Neither touches the database. Interventions cut a hostel's or a
    room's load by a known share from a day on, recorded as "intervention" incidents (ground truth).
    """
    clock = time.monotonic()
    spec = SCALES[scale]
    timeline = _timeline_for(scale_days=spec.days, timezone=TIMEZONE, start_date=start_date, days=days, now=now)
    plan = estate_plan(seed=seed, scale=spec, start=timeline.start)
    kinds = day_kinds(timeline.dates)
    room_serials = [plan.meters[plan.room_meter(r)].serial for r in range(len(plan.rooms))]
    capacities = np.array([room.beds for room in plan.rooms])
    roster = roster_build(seed=seed, room_keys=room_serials, capacities=capacities, dates=timeline.dates, kinds=kinds)
    weather = weather_build(seed=seed, site_code=plan.site_code, timeline=timeline, latitude=plan.latitude)
    temperature = weather.per_step(timeline.steps)
    dark = dark_mask(timeline, latitude=plan.latitude, longitude=plan.longitude).astype(np.float32)
    planned = incidents_plan(seed=seed, plan=plan, timeline=timeline, roster=roster, enabled=incidents)
    summary = Summary(scale=scale, seed=seed, start=timeline.start, end=timeline.end)

    ids: persist.EstateIds | None = None
    tables: list[str] = []
    if csv_path is not None:
        chosen = {plan.meters[plan.room_meter(r)].serial for r in range(min(csv_meters, len(plan.rooms)))}
        sink = CsvSink(csv_path, timeline, chosen)
    if sink is not None:
        meter_ids = list(range(len(plan.meters)))
    else:
        span = f"{timeline.start:%Y-%m-%d %H:%M} to {timeline.end:%Y-%m-%d %H:%M} UTC"
        log(f"Simulating the {scale} campus, seed {seed}, {span}")
        ids = persist.estate_save(plan=plan, timeline=timeline, roster=roster)
        # Every simulated month gets its partition before the rows arrive, so none waits in the
        # default partition for the nightly task to move it (a rewrite of the whole history).
        reading_partitions_ensure(now=timeline.start, months_ahead=_months_between(timeline.start, timeline.end))
        meter_ids = ids.meters
        sink = DatabaseSink(timeline)
        tables = [model._meta.db_table for model in (Reading, HourlyRollup, DailyRollup)]
    run = _Run(
        seed=seed,
        plan=plan,
        timeline=timeline,
        incidents=planned,
        sink=sink,
        meter_ids=meter_ids,
        rollups=ids is not None,
        progress=progress,
        interventions=interventions,
    )
    try:
        with bulk_load_mode(tables):
            run.hostels(temperature=temperature, dark=dark, kinds=kinds, roster=roster, capacities=capacities)
            run.feeders(temperature=temperature, kinds=kinds)
    finally:
        run.bar.close()
        sink.close()
    events, failed, conditions = run.transformer_events(temperature=temperature)
    planned = planned + run.intervention_truth
    if ids is not None:
        # The sites are in one town: each gets the same weather rows.
        summary.weather_rows = sum(persist.weather_save(site=site, weather=weather) for site in ids.sites)
        persist.incidents_save(incidents=planned, meter_ids=meter_ids, timeline=timeline)
        persist.transformer_events_save(events=events, transformers=ids.transformers, failed=failed)
        summary.condition_readings = persist.transformer_conditions_save(
            conditions=conditions, transformers=ids.transformers
        )
        persist.last_readings_save(last=run.last)
        # The sink wrote meter rollups directly: the hostel rollups are summed from them once.
        hostel_rollups_rebuild(hostel_ids=[hostel.pk for hostel in ids.hostels])
        tables_analyze(skip=tables)  # the readings and rollups were analyzed as they were loaded
    summary.readings = run.readings
    summary.plan, summary.incidents, summary.timeline = plan, planned, timeline
    summary.hostels = len(plan.hostels)
    summary.rooms_by_beds = dict(sorted(Counter(room.beds for room in plan.rooms).items()))
    summary.meters_by_kind = dict(Counter(m.kind for m in plan.meters))
    summary.incidents_by_kind = dict(sorted(Counter(i.kind for i in planned).items()))
    summary.transformer_events_by_kind = dict(sorted(Counter(e.kind for e in events).items()))
    summary.seconds = time.monotonic() - clock
    return summary
