"""Which exact zeros in a meter's readings are readings, and which are gaps a source filled with 0.

Used by the import (`--zero-is-missing` keeps the zeros that are readings) and by day-level detection
(`predictions.detection.days.profiles`), so both draw the line in the same place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def real_zeros(*, kwh: np.ndarray, interval_minutes: int, max_hours: float = 12.0, low: float = 0.25) -> np.ndarray:
    """Which exact zeros in one meter's series (in time order) are readings rather than gaps.

    Sources fill missing readings with 0, but a net meter reads 0 when the building's own solar panels cover
    it (the export clipped to 0), and a tiny load rounds to 0. Such a zero is reached: the readings on both
    sides of its run are low (below `low` of the meter's median reading) and the run is shorter than
    `max_hours`. A gap is not: the readings jump from the usual level to 0 and back, or it lasts for days.
    A missing neighbour (NaN) is not low: a run beside a gap is a gap.
    """
    zero = kwh == 0
    real = np.zeros(len(kwh), dtype=bool)
    positive = kwh[kwh > 0]
    if not zero.any() or not len(positive):
        return real
    ceiling = low * float(np.median(positive))
    longest = max_hours * 60.0 / interval_minutes
    edges = np.flatnonzero(np.diff(np.r_[False, zero, False].astype(int)))
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        before = kwh[first - 1] if first > 0 else np.nan
        after = kwh[stop] if stop < len(kwh) else np.nan
        if stop - first <= longest and 0 < before < ceiling and 0 < after < ceiling:
            real[first:stop] = True
    return real


def reached_zeros(*, meter_id: pd.Series, epoch: pd.Series, kwh: pd.Series, interval_s: pd.Series) -> pd.Series:
    """Per row of an import chunk (any order, many meters): an exact 0 that `real_zeros` calls a reading.

    Each meter's rows are laid on its interval grid first, so a neighbour is the reading one interval away,
    not the next row of the file (a missing interval beside a run of zeros makes the run a gap). A run cut
    by the chunk's edge has a missing neighbour there and counts as a gap.
    """
    real = pd.Series(False, index=kwh.index)
    for _, rows in kwh.groupby(meter_id):
        if not (rows == 0).any():
            continue
        step = int(interval_s[rows.index[0]])
        slots = ((epoch[rows.index] - int(epoch[rows.index].min())) // step).to_numpy(dtype=np.int64)
        grid = np.full(int(slots.max()) + 1, np.nan)
        grid[slots] = rows.to_numpy(dtype=float)
        on_grid = real_zeros(kwh=grid, interval_minutes=max(step // 60, 1))
        real[rows.index] = on_grid[slots] & (rows.to_numpy(dtype=float) == 0)
    return real
