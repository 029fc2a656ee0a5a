"""The campus simulator, the one generator of campuses for the product, its tests and the benches.

- `campus_simulate`: a coherent, deterministic estate at a scale (`SCALES`), with incidents drawn at
  their real rates and labelled (issue 3); `replay` keeps it delivering readings live.
- `labelled_campus_build` (`labelled`): a small fixed campus with exactly one incident of each asked
  kind, for checking detection kind by kind.
- `habit_campus_build`, `failing_fleet_build`, `gassing_fleet_build` (`fleets`): rollups with one
  known signal each (customers' habits; failures after overloads; failures announced by gas in oil).
"""

from meters.simulation.campus import Summary, campus_simulate
from meters.simulation.fleets import HabitCampus, failing_fleet_build, gassing_fleet_build, habit_campus_build
from meters.simulation.labelled import LABELLED_KINDS, LabelledCampus, labelled_campus_build
from meters.simulation.scales import SCALES, Scale

__all__ = [
    "LABELLED_KINDS",
    "SCALES",
    "HabitCampus",
    "LabelledCampus",
    "Scale",
    "Summary",
    "campus_simulate",
    "failing_fleet_build",
    "gassing_fleet_build",
    "habit_campus_build",
    "labelled_campus_build",
]
