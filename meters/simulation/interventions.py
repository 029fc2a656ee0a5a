"""Ground truth for measured savings: an intervention cuts a hostel's (or one room's) load by a known
share from a local day on. The cut is applied to the physical load before meters report it, and the
hostel's main meter (or the room's meter) gets an Incident of kind "intervention" with the share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from meters.simulation.incidents import IncidentPlan
from meters.simulation.timeline import Timeline


@dataclass(frozen=True)
class InterventionSpec:
    """Cut hostel number `hostel` (0-based, in plan order) by `share` from local day `start`; with
    `room` (0-based index among the hostel's rooms), only that room."""

    hostel: int
    start: dt.date
    share: float
    room: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.share < 1:
            raise ValueError(f"an intervention cuts a share between 0 and 1, not {self.share}")


def intervention_first_step(spec: InterventionSpec, timeline: Timeline) -> int:
    day = (spec.start - timeline.start_date).days
    if not 0 < day < timeline.days:
        raise ValueError(
            f"intervention on {spec.start} is outside the simulated days {timeline.start_date} to "
            f"{timeline.start_date + dt.timedelta(days=timeline.days - 1)}"
        )
    return timeline.local_midnight_step(day)


def interventions_apply(
    *,
    specs: list[InterventionSpec],
    hostel: int,
    rooms_kw: np.ndarray,
    common_kw: np.ndarray,
    timeline: Timeline,
    main_slot: int,
    room_slots: list[int],
) -> list[IncidentPlan]:
    """Cut this hostel's room rows and common areas in place; return the ground truth to record."""
    truth: list[IncidentPlan] = []
    for spec in specs:
        if spec.hostel != hostel:
            continue
        step = intervention_first_step(spec, timeline)
        keep = np.float32(1.0 - spec.share)
        if spec.room is None:
            rooms_kw[:, step:] *= keep
            common_kw[step:] *= keep
            slot, note = main_slot, f"hostel load cut by {spec.share:.0%}"
        else:
            if not 0 <= spec.room < len(room_slots):
                raise ValueError(f"hostel {hostel} has rooms 0 to {len(room_slots) - 1}, not {spec.room}")
            rooms_kw[spec.room, step:] *= keep
            slot, note = room_slots[spec.room], f"room load cut by {spec.share:.0%}"
        truth.append(
            IncidentPlan(
                slot=slot,
                kind="intervention",
                start=step,
                end=timeline.steps,
                magnitude=spec.share,
                note=note,
                meter=slot,
            )
        )
    return truth
