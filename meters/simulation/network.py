"""Transformer history: inspections, warning faults and failures that follow from overload, age and voltage.

The hazard of a failure on a day grows with the transformer's age and with a 30-day memory of
overload hours and low-voltage hours, so a model fed those features has something real to learn;
warning faults come days to weeks before most failures (the lead time). A failure announced so is a
developing fault (overheating, partial discharge): it starts weeks before the warning, and its window
(`developing`) drives the condition telemetry of meters/simulation/condition.py. Unannounced
failures (through-faults, lightning) give no precursor at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from meters.simulation.estate import TransformerPlan
from meters.simulation.rng import rng_for

BASE_DAILY_HAZARD = 1 / 3000


@dataclass(frozen=True)
class TransformerEventPlan:
    transformer: int
    kind: str  # TransformerEvent.Kind value
    occurred_at: dt.datetime
    description: str
    oil_temperature_c: float | None


@dataclass
class TransformerStory:
    """A transformer's simulated events, whether it is out of service at the end, and its developing faults."""

    events: list[TransformerEventPlan]
    failed: bool
    developing: list[tuple[int, int]]  # (warning day, failure day), day indexes from the start; may be < 0


def transformer_history(
    *,
    seed: int,
    index: int,
    transformer: TransformerPlan,
    hourly_kw: np.ndarray,
    hourly_voltage: np.ndarray,
    start: dt.datetime,
    now_year: int,
) -> TransformerStory:
    """Events for one transformer over the simulated hours, whether it is failed at the end, its developing faults."""
    rng = rng_for(seed, "transformer", transformer.code)
    events: list[TransformerEventPlan] = []
    age = max(now_year - transformer.installed_year, 0)
    # Inspections before the simulation, so the history has a past.
    for years_ago in range(min(age, 5), 0, -1):
        when = start - dt.timedelta(days=365 * years_ago - int(rng.integers(0, 60)))
        oil = round(float(48 + 0.4 * age + rng.normal(0, 3)), 1)
        events.append(TransformerEventPlan(index, "inspection", when, "Annual inspection.", oil))
        if rng.random() < 0.04 * (1 + age / 20):
            events.append(TransformerEventPlan(index, "fault", when, "Minor fault found and fixed.", oil + 6))
    hours = hourly_kw.shape[0]
    days = hours // 24
    developing: list[tuple[int, int]] = []
    if days == 0:
        return TransformerStory(events, False, developing)
    loading = hourly_kw[: days * 24].reshape(days, 24) / 0.93 / transformer.capacity_kva
    low_v = hourly_voltage[: days * 24].reshape(days, 24) < 0.94 * 230.0
    overload_hours = (loading > 1.0).sum(axis=1)
    low_v_hours = low_v.sum(axis=1)
    mean_loading = loading.mean(axis=1)
    stress = np.zeros(days)
    memory = 0.0
    for d in range(days):
        memory = memory * (29 / 30) + (overload_hours[d] + 0.5 * low_v_hours[d]) / 30
        stress[d] = memory
    hazard = BASE_DAILY_HAZARD * np.exp(age / 22.0) * (1.0 + 1.5 * stress)
    threshold = rng.exponential(1.0)
    accumulated = 0.0
    failed_until = -1
    next_inspection = int(rng.integers(10, 90))
    for d in range(days):
        day_start = start + dt.timedelta(days=d)
        if d < failed_until:
            continue
        if d == failed_until:
            events.append(TransformerEventPlan(index, "repair", day_start, "Repaired and re-energised.", None))
        oil = round(float(45 + 30 * mean_loading[d] + 2.5 * stress[d] + rng.normal(0, 1.5)), 1)
        if d >= next_inspection:
            events.append(TransformerEventPlan(index, "inspection", day_start, "Routine inspection.", oil))
            next_inspection = d + int(rng.integers(80, 100))
        accumulated += hazard[d]
        if accumulated < threshold:
            continue
        when = day_start + dt.timedelta(hours=int(np.argmax(loading[d])))
        if rng.random() < 0.8:  # most failures are announced by a warning fault
            lead = int(rng.integers(5, 31))
            warned = max(when - dt.timedelta(days=lead), start)
            text = str(rng.choice(["Oil temperature alarm.", "Gas-in-oil (Buchholz) alarm.", "Bushing hot spot."]))
            events.append(TransformerEventPlan(index, "fault", warned, text, oil + 12))
            developing.append((d - lead, d))  # condition.py starts the fault weeks before its warning
        reason = "overload" if overload_hours[max(d - 30, 0) : d + 1].sum() > 10 else "insulation ageing"
        events.append(TransformerEventPlan(index, "failure", when, f"Failure ({reason}).", oil + 20))
        failed_until = d + int(rng.integers(2, 8))
        accumulated, threshold = 0.0, rng.exponential(1.0)
    return TransformerStory(events, failed_until >= days, developing)
