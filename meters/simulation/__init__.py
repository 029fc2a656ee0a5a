"""The campus simulator: a coherent, deterministic campus with labelled incidents (see issue 3)."""

from meters.simulation.campus import Summary, campus_simulate
from meters.simulation.scales import SCALES, Scale

__all__ = ["SCALES", "Scale", "Summary", "campus_simulate"]
