"""Incidents with ground truth: planned on the grid, then written into the signal at exactly that time.

Consumption incidents change what a room really draws, so they also reach its hostel's main
meter; meter faults change only what one meter reports.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from meters.simulation.calendar import Roster
from meters.simulation.estate import EstatePlan, MeterPlan
from meters.simulation.rng import rng_for
from meters.simulation.timeline import STEPS_PER_HOUR, Timeline

DAY = 96
CONSUMPTION_KINDS = ("spike", "sustained_excess", "vacant_usage", "night_usage", "drift")
FAULT_KINDS = (
    "flat_line",
    "dead_meter",
    "register_reset",
    "meter_replacement",
    "voltage_sag",
    "voltage_swell",
    "low_power_factor",
)
ALL_KINDS = (*CONSUMPTION_KINDS, *FAULT_KINDS, "main_imbalance")

# Expected incidents per meter-year, by the kind of meter they happen to.
RATES: dict[str, dict[str, float]] = {
    "room": {
        "spike": 3.0,
        "sustained_excess": 0.4,
        "night_usage": 0.4,
        "drift": 0.15,
        "flat_line": 0.25,
        "dead_meter": 0.25,
        "register_reset": 0.1,
        "meter_replacement": 0.08,
        "voltage_sag": 0.5,
        "voltage_swell": 0.3,
        "low_power_factor": 0.15,
        "vacant_usage": 0.3,
    },
    "hostel_main": {"main_imbalance": 3.0, "voltage_sag": 0.5, "dead_meter": 0.2},
    "feeder": {"spike": 2.0, "drift": 0.15, "flat_line": 0.2, "low_power_factor": 0.3},
}


@dataclass
class IncidentPlan:
    """One labelled incident on a meter slot (the meter of a room, even across a replacement)."""

    slot: int  # index of the original meter in EstatePlan.meters
    kind: str
    start: int  # first step affected
    end: int  # first step after
    magnitude: float
    note: str = ""
    meter: int = -1  # meter actually installed at `start` (set when planning ends)
    new_meter: int | None = None  # meter_replacement: the meter installed at `end`


def _duration(kind: str, rng: np.random.Generator) -> int:
    if kind == "spike":
        return int(rng.integers(1, 5))
    if kind in ("register_reset",):
        return 1
    if kind == "meter_replacement":
        return int(rng.integers(2, 9))
    if kind in ("voltage_sag", "voltage_swell"):
        return int(rng.integers(1, 9))
    if kind == "drift":
        return int(rng.integers(10, 31)) * DAY
    if kind in ("sustained_excess", "main_imbalance"):
        return int(rng.integers(2, 7)) * DAY
    if kind == "low_power_factor":
        return int(rng.integers(1, 6)) * DAY
    if kind in ("flat_line", "dead_meter"):
        return int(rng.integers(DAY // 2, 3 * DAY))
    if kind == "vacant_usage":
        return int(rng.integers(DAY // 4, 2 * DAY))
    return DAY


def _magnitude(kind: str, rng: np.random.Generator) -> tuple[float, str]:
    match kind:
        case "spike":
            return round(float(rng.uniform(2.5, 6.0)), 2), "kW added"
        case "sustained_excess":
            return round(float(rng.uniform(0.8, 2.0)), 2), "kW added: heater or AC left on"
        case "vacant_usage":
            return round(float(rng.uniform(0.3, 1.0)), 2), "kW used while nobody is on the roster"
        case "night_usage":
            return round(float(rng.uniform(1.2, 2.5)), 2), "kW added between 01:00 and 05:00"
        case "drift":
            return round(float(rng.uniform(0.5, 1.5)), 2), "relative increase reached at the end"
        case "flat_line":
            return 0.0, "every value repeats the one at the start"
        case "dead_meter":
            return float(rng.integers(0, 2)), "0: reports zeros, 1: reports nothing"
        case "register_reset":
            return 0.0, "kWh index before the reset"
        case "meter_replacement":
            return 0.0, "no readings while the meter is swapped"
        case "voltage_sag":
            return round(float(rng.uniform(0.78, 0.9)), 3), "voltage factor"
        case "voltage_swell":
            return round(float(rng.uniform(1.08, 1.13)), 3), "voltage factor"
        case "low_power_factor":
            return round(float(rng.uniform(0.55, 0.72)), 3), "power factor"
        case _:  # main_imbalance
            return round(float(rng.uniform(0.8, 3.0)), 2), "kW through the main meter that no room meter sees"


def incidents_plan(
    *, seed: int, plan: EstatePlan, timeline: Timeline, roster: Roster, enabled: bool = True
) -> list[IncidentPlan]:
    """Where and when every incident happens; adds the replacement meters to the estate plan."""
    if not enabled or timeline.steps < 3 * DAY:
        return []
    years = timeline.steps / (365.0 * DAY)
    busy: dict[int, list[tuple[int, int]]] = {}
    planned: list[IncidentPlan] = []
    room_meter = {i: m.room for i, m in enumerate(plan.meters) if m.room is not None}
    by_kind: dict[str, list[int]] = {kind: [] for kind in ALL_KINDS}
    for i, meter in enumerate(plan.meters):
        for kind in RATES.get(meter.kind, {}):
            if kind == "vacant_usage" and not roster.vacant_rooms[meter.room or 0]:
                continue
            by_kind[kind].append(i)
    # Replacements first, so later incidents on that room know which meter is installed.
    order = ["meter_replacement", *[k for k in ALL_KINDS if k != "meter_replacement"]]
    for kind in order:
        candidates = by_kind[kind]
        if not candidates and kind == "vacant_usage":
            candidates = [i for i, m in enumerate(plan.meters) if m.kind == "room"]  # rooms empty in vacations
        if not candidates:
            continue
        rng = rng_for(seed, "incidents", kind)
        rate = max(RATES[plan.meters[candidates[0]].kind].get(kind, 0.3), 0.05)
        wanted = max(1, int(rng.poisson(rate * years * len(candidates))))
        placed = 0
        for _ in range(wanted * 30):
            if placed >= wanted:
                break
            slot = int(candidates[rng.integers(len(candidates))])
            length = _duration(kind, rng)
            if length >= timeline.steps - 2 * DAY:
                continue
            start = int(rng.integers(DAY // 2, timeline.steps - length - DAY // 4))
            if kind == "night_usage":
                nights = int(rng.integers(3, 8))
                first_day = int(timeline.day[start]) + 1
                if first_day + nights >= timeline.days:
                    continue
                start = timeline.local_midnight_step(first_day) + STEPS_PER_HOUR  # 01:00
                length = timeline.local_midnight_step(first_day + nights - 1) + 5 * STEPS_PER_HOUR - start
            end = start + length
            if kind == "meter_replacement" and slot in busy:
                continue  # one replacement per room is plenty, and keeps serials unique
            if any(start < e + 4 and s < end + 4 for s, e in busy.get(slot, [])):
                continue
            room = room_meter.get(slot)
            if room is not None:
                days = slice(int(timeline.day[start]), int(timeline.day[end - 1]) + 1)
                enrolled = roster.enrolled[room, days]
                if kind == "vacant_usage" and enrolled.any():
                    continue
                if kind == "night_usage" and not enrolled.all():
                    continue
            magnitude, note = _magnitude(kind, rng)
            busy.setdefault(slot, []).append((start, end))
            planned.append(IncidentPlan(slot, kind, start, end, magnitude, note))
            placed += 1
    _resolve_meters(plan, timeline, planned)
    return sorted(planned, key=lambda i: (i.slot, i.start))


def _resolve_meters(plan: EstatePlan, timeline: Timeline, planned: list[IncidentPlan]) -> None:
    """Install replacement meters, and label each incident with the meter installed at its start."""
    replacement_of: dict[int, IncidentPlan] = {}
    for incident in planned:
        if incident.kind == "meter_replacement":
            old = plan.meters[incident.slot]
            old.removed_at = timeline.at(incident.start)
            plan.meters.append(
                dataclasses.replace(
                    old,
                    serial=f"{old.serial}-R1",
                    installed_at=timeline.at(incident.end),
                    removed_at=None,
                    replaces=incident.slot,
                )
            )
            incident.new_meter = len(plan.meters) - 1
            incident.note = f"replaced by {old.serial}-R1"
            replacement_of[incident.slot] = incident
    for incident in planned:
        swap = replacement_of.get(incident.slot)
        after = swap is not None and swap.new_meter is not None and incident.start >= swap.end
        incident.meter = swap.new_meter if after and swap and swap.new_meter is not None else incident.slot


def apply_consumption(kw: np.ndarray, incidents: list[IncidentPlan], timeline: Timeline) -> None:
    """Add what residents or appliances really drew during consumption incidents (in place, kW)."""
    for incident in incidents:
        s, e, m = incident.start, incident.end, incident.magnitude
        match incident.kind:
            case "spike" | "sustained_excess" | "main_imbalance":
                kw[s:e] += m
            case "vacant_usage":
                evening = (timeline.hour[s:e] >= 18) | (timeline.hour[s:e] < 1)
                kw[s:e] += m * (0.5 + 0.5 * evening)
            case "night_usage":
                kw[s:e] += m * ((timeline.hour[s:e] >= 1) & (timeline.hour[s:e] < 5))
            case "drift":
                kw[s:e] *= 1.0 + m * np.linspace(0.0, 1.0, e - s, dtype=np.float32)


@dataclass
class Reported:
    """What one meter slot reports at each step, before it is split between replaced meters."""

    kwh: np.ndarray
    voltage: np.ndarray
    current: np.ndarray
    power_factor: np.ndarray
    valid: np.ndarray
    quality: np.ndarray


def apply_faults(
    *, seed: int, meter: MeterPlan, kw: np.ndarray, voltage: np.ndarray, pf: np.ndarray, incidents: list[IncidentPlan]
) -> Reported:
    """Turn a slot's true demand into what its meter reports, with its faults, noise and gaps."""
    rng = rng_for(seed, "reporting", meter.serial)
    steps = kw.shape[0]
    valid = np.greater(rng.random(steps), 0.0015)  # the odd interval lost on the way
    quality: np.ndarray = np.asarray(rng.random(steps) < 0.002, dtype=np.int16)  # the head end estimated a few
    initial_index = float(rng.uniform(500.0, 20000.0))
    for incident in incidents:
        if not (incident.kind == "meter_replacement" or (incident.kind == "dead_meter" and incident.magnitude)):
            valid[incident.start : incident.end] = True  # a labelled incident is always in the data
        s, e = incident.start, incident.end
        if incident.kind in ("voltage_sag", "voltage_swell"):
            voltage[s:e] *= incident.magnitude
        elif incident.kind == "low_power_factor":
            pf[s:e] = incident.magnitude + 0.01 * np.sin(np.arange(e - s))
    kwh = np.round(kw.astype(np.float64) / 4.0, 3)
    current = np.round(kw * 1000.0 / (voltage * pf), 3)
    voltage = np.round(voltage, 1)
    pf = np.round(pf, 3)
    for incident in incidents:
        s, e = incident.start, incident.end
        if incident.kind == "flat_line":
            for series in (kwh, voltage, current, pf):
                series[s:e] = series[s]
            quality[s:e] = 0
        elif incident.kind == "dead_meter":
            if incident.magnitude == 0:
                kwh[s:e] = 0.0
                current[s:e] = 0.0
            else:
                valid[s:e] = False
        elif incident.kind == "register_reset":
            before = round(initial_index + float(kwh[:s].sum()), 3)
            incident.magnitude = before
            kwh[s] = round(kwh[s] - before, 3)
            valid[s] = True
        elif incident.kind == "meter_replacement":
            valid[s:e] = False
    return Reported(kwh, voltage, current, pf, valid, quality)
