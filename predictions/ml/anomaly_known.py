"""Anomalies already found, in training: the readings inside them, and meters whose findings are their new usual.

`predictions.ml.anomaly` leaves the found readings out of the residual spreads and centres it calibrates on,
except on meters found anomalous on most days of the held-back week (`recurring`, docs/internals.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def known_rows(ts: pd.Series, meter_ids: pd.Series, known: Sequence[tuple[int, object, object]] | None) -> np.ndarray:
    """True at the readings inside a span (meter, start, end) of an anomaly already found on their meter."""
    out = np.zeros(len(ts), dtype=bool)
    if not known or not len(ts):
        return out
    moments = pd.DatetimeIndex(ts).as_unit("ns").asi8
    by_meter: dict[int, list[tuple[int, int]]] = {}
    for meter_id, start, end in known:
        a, b = (pd.Timestamp(start).as_unit("ns").value, pd.Timestamp(end).as_unit("ns").value)  # type: ignore[arg-type]
        by_meter.setdefault(int(meter_id), []).append((a, b))
    for key, index in pd.Series(np.arange(len(ts))).groupby(meter_ids.to_numpy()).indices.items():
        spans = by_meter.get(int(str(key)))
        if not spans:
            continue
        at = moments[index]
        hit = np.zeros(len(index), dtype=bool)
        for a, b in spans:
            hit |= (at >= a) & (at < b)
        out[index] = hit
    return out


RECURRING_DAYS = 4  # days of the held-back week on which a finding begins that make it the meter's usual


def recurring(found: pd.Series, ts: pd.Series, meter_ids: pd.Series, *, since: pd.Timestamp) -> set[int]:
    """Meters with findings beginning on at least `RECURRING_DAYS` different days from `since` on (the held-back week).

    Counted where each finding begins: evening after evening of new residents' use is a habit, while one heater
    left on for five days, or two such incidents in a week, is not (calibrated on, it would hide the next one).
    """
    flags = found.to_numpy()
    if not flags.any():
        return set()
    ids = meter_ids.to_numpy()
    moments = pd.DatetimeIndex(ts).as_unit("ns").asi8
    order = np.lexsort((moments, ids))
    ordered = flags[order]
    same_meter = np.r_[False, ids[order][1:] == ids[order][:-1]]
    begins = np.zeros(len(flags), dtype=bool)
    begins[order] = ordered & ~(np.r_[False, ordered[:-1]] & same_meter)
    held = begins & (moments >= pd.Timestamp(since).as_unit("ns").value)
    if not held.any():
        return set()
    days = pd.DataFrame({"meter_id": ids[held], "day": pd.DatetimeIndex(ts[held]).floor("D")})
    counts = days.drop_duplicates().groupby("meter_id").size()
    return {int(str(meter_id)) for meter_id, n in counts.items() if n >= RECURRING_DAYS}
