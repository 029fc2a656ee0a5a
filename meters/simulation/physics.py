"""Consumption physics at 15-minute steps: base load, people, lighting, cooling, heating, appliances.

Every function is vectorised over (meters, steps) and draws only from generators keyed by the
meter's serial, so a room's clean signal is the same whatever else the simulation does.
"""

from __future__ import annotations

import numpy as np

from meters.simulation.calendar import EXAMS, TERM, VACATION
from meters.simulation.rng import rng_for
from meters.simulation.timeline import Timeline

# Share of an occupant's peak activity in each local hour (0..23), per habit group.
_TYPICAL = [
    *(0.2, 0.1, 0.05, 0.03, 0.03, 0.03, 0.05, 0.3, 0.5, 0.3, 0.15, 0.15),
    *(0.25, 0.3, 0.2, 0.2, 0.3, 0.45, 0.6, 0.75, 0.8, 0.7, 0.5, 0.35),
]
HOURLY_PROFILES: dict[str, list[float]] = {
    "night_owl": [
        *(0.65, 0.6, 0.5, 0.35, 0.15, 0.05, 0.03, 0.03, 0.03, 0.05, 0.1, 0.2),
        *(0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 0.9, 0.8),
    ],
    "early_riser": [
        *(0.05, 0.03, 0.03, 0.03, 0.03, 0.25, 0.85, 0.9, 0.6, 0.3, 0.2, 0.2),
        *(0.3, 0.3, 0.2, 0.2, 0.3, 0.5, 0.7, 0.8, 0.6, 0.3, 0.1, 0.05),
    ],
    "all_day": [
        *(0.15, 0.05, 0.03, 0.03, 0.03, 0.03, 0.05, 0.2, 0.5, 0.6, 0.65, 0.7),
        *(0.75, 0.7, 0.65, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8, 0.7, 0.5, 0.3),
    ],
    "low_user": _TYPICAL,
    "heavy_appliance": _TYPICAL,
}
HABIT_INDEX = {name: i for i, name in enumerate(HOURLY_PROFILES)}


def _slot_profiles() -> np.ndarray:
    """(habit, weekend, slot) activity; weekends run about 1.5 hours later."""
    out = np.zeros((len(HOURLY_PROFILES), 2, 96), dtype=np.float32)
    grid = np.arange(96) / 4.0
    for name, hourly in HOURLY_PROFILES.items():
        values = np.interp(grid, np.arange(25), [*hourly, hourly[0]])
        out[HABIT_INDEX[name], 0] = values
        out[HABIT_INDEX[name], 1] = np.roll(values, 6) * 1.1
    return out


SLOT_PROFILES = _slot_profiles()


def room_parameters(seed: int, serial: str, habit: str) -> dict[str, float]:
    """Per-room constants: appliances in standby, how much each person uses, AC and heater."""
    rng = rng_for(seed, "room-params", serial)
    person_kw = 0.22 * float(rng.lognormal(0.0, 0.25))
    if habit == "low_user":
        person_kw *= 0.45
    return {
        "base_kw": float(rng.uniform(0.035, 0.075)),
        "person_kw": person_kw,
        "has_ac": float(rng.random() < 0.75),
        "cool_setpoint": float(rng.uniform(23.5, 26.5)),
        "has_heater": float(rng.random() < 0.5),
        "heat_setpoint": float(rng.uniform(14.0, 17.0)),
        "heavy_kw": float(rng.uniform(1.8, 3.4)),
    }


def rooms_load_kw(
    *,
    seed: int,
    timeline: Timeline,
    temperature: np.ndarray,
    dark: np.ndarray,
    kinds: np.ndarray,
    serials: list[str],
    habits: list[str],
    present: np.ndarray,
) -> np.ndarray:
    """Clean demand (kW) of each room at each step: shape (rooms, steps), float32."""
    rooms, steps = len(serials), timeline.steps
    day = timeline.day
    weekend = (timeline.weekday >= 5).astype(np.int8)
    slot = timeline.slot.astype(np.int64)
    exam_boost = np.where(kinds == EXAMS, 1.15, 1.0).astype(np.float32)[day]
    out = np.empty((rooms, steps), dtype=np.float32)
    for r, serial in enumerate(serials):
        p = room_parameters(seed, serial, habits[r])
        rng = rng_for(seed, "room-load", serial)
        people = present[r][day].astype(np.float32)
        anyone = (people > 0).astype(np.float32)
        activity = SLOT_PROFILES[HABIT_INDEX[habits[r]], weekend, slot] * exam_boost
        daily = rng.lognormal(0.0, 0.15, size=timeline.days).astype(np.float32)[day]
        occupants = activity * people * p["person_kw"] * daily
        lighting = dark * anyone * (activity > 0.12) * 0.045 * np.minimum(people, 2)
        cooling = (
            p["has_ac"] * anyone * np.clip(0.12 * (temperature - p["cool_setpoint"]), 0, 1.8) * (0.55 + 0.45 * activity)
        )
        heating = (
            p["has_heater"]
            * anyone
            * np.clip(0.1 * (p["heat_setpoint"] - temperature), 0, 1.5)
            * (0.4 + 0.6 * activity)
        )
        load = p["base_kw"] + occupants + lighting + cooling + heating
        if habits[r] == "heavy_appliance":
            uses = rng.random(timeline.days) < 0.65
            first = rng.integers(72, 92, size=timeline.days)
            length = rng.integers(6, 16, size=timeline.days)
            on = uses[day] & (slot >= first[day]) & (slot < first[day] + length[day]) & (people > 0)
            load = load + on * p["heavy_kw"]
        out[r] = load * rng.lognormal(0.0, 0.07, size=steps).astype(np.float32)
    return out


def common_areas_kw(
    *, seed: int, serial: str, timeline: Timeline, dark: np.ndarray, rooms: int, occupancy_share: np.ndarray
) -> np.ndarray:
    """Corridors, kitchens, laundry and lifts of a hostel, which only the main meter sees."""
    rng = rng_for(seed, "common", serial)
    awake = ((timeline.hour >= 7) & (timeline.hour < 23)).astype(np.float32)
    load = 0.6 + 0.015 * rooms + dark * 0.03 * rooms + awake * 0.025 * rooms * occupancy_share[timeline.day]
    return (load * rng.lognormal(0.0, 0.05, size=timeline.steps)).astype(np.float32)


def feeder_load_kw(
    *, seed: int, serial: str, habit: str, timeline: Timeline, temperature: np.ndarray, kinds: np.ndarray
) -> np.ndarray:
    """Demand of a non-hostel customer: cafeteria, lab, shop or staff residence."""
    rng = rng_for(seed, "feeder", serial)
    hour, day = timeline.hour, timeline.day
    weekday = (timeline.weekday < 5).astype(np.float32)
    session = np.isin(kinds, (TERM, EXAMS)).astype(np.float32)[day]
    vacation = (kinds == VACATION).astype(np.float32)[day]
    heat = np.clip(temperature - 24.0, 0, None)
    cold = np.clip(15.0 - temperature, 0, None)
    size = float(rng.uniform(0.8, 1.25))
    if habit == "cafeteria":
        open_ = ((hour >= 7) & (hour < 17)) * (0.3 + 0.7 * weekday) * (0.2 + 0.8 * session)
        lunch = np.exp(-(((hour - 13.5) / 1.2) ** 2))
        load = 4.0 + open_ * (10 + 18 * lunch) + 0.8 * heat * open_
    elif habit == "lab":
        working = ((hour >= 8) & (hour < 19)) * weekday * (0.5 + 0.5 * (1 - vacation))
        load = 12.0 + 30.0 * working + 1.4 * heat + 0.8 * cold * working
    elif habit == "shop":
        open_ = ((hour >= 9) & (hour < 20)) * (timeline.weekday < 6)
        load = 1.5 + 3.5 * open_ + 0.3 * heat * open_
    else:  # staff residence: a handful of flats
        evening = np.exp(-(((hour - 20.5) / 2.2) ** 2)) + 0.5 * np.exp(-(((hour - 7.5) / 1.0) ** 2))
        load = 0.8 + 3.0 * evening + 0.25 * heat + 0.3 * cold
    return (size * load * rng.lognormal(0.0, 0.06, size=timeline.steps)).astype(np.float32)


def supply_voltage(*, seed: int, code: str, load_kw: np.ndarray, capacity_kva: int) -> np.ndarray:
    """Voltage at a transformer's secondary: it sags as the transformer loads up."""
    rng = rng_for(seed, "supply", code)
    loading = load_kw / 0.93 / capacity_kva
    return (232.0 - 11.0 * loading + rng.normal(0.0, 0.6, size=load_kw.shape)).astype(np.float32)


def electrical(
    *, seed: int, serial: str, kind: str, kw: np.ndarray, supply: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Voltage and power factor a meter reports, consistent with its load (current follows from both)."""
    rng = rng_for(seed, "electrical", serial)
    steps = kw.shape[0]
    voltage: np.ndarray
    pf: np.ndarray
    if kind == "room":
        voltage = supply - 0.6 * kw - float(rng.uniform(0, 1.5)) + rng.normal(0, 0.4, steps)
        pf = 0.985 - 0.15 * np.exp(-kw / 0.18) + rng.normal(0, 0.008, steps)
    elif kind == "hostel_main":
        voltage = supply + np.asarray(rng.normal(0, 0.3, steps))
        pf = np.asarray(rng.normal(0.94, 0.005, steps))
    else:
        voltage = supply - 0.4 + np.asarray(rng.normal(0, 0.4, steps))
        pf = np.asarray(rng.normal(float(rng.uniform(0.86, 0.95)), 0.008, steps))
    return voltage.astype(np.float64), np.clip(pf, 0.5, 1.0).astype(np.float64)
