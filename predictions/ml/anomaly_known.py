"""Readings the detector already called abnormal: the anomaly baseline learns nothing from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

KnownSpan = tuple[int, dt.datetime, dt.datetime]  # meter id, first abnormal interval, end (exclusive)


def outside_known(frame: pd.DataFrame, known: Iterable[KnownSpan]) -> np.ndarray:
    """True for each row of `frame` that lies in none of the `known` anomalies of its meter.

    The baseline retrains every week on the weeks before, the last of them held back to measure each
    meter's spreads. An incident found in that week (a 4 kW spike, two days of a heater left on) is the
    tail of its meter's residuals there: the next week's spreads take it as the meter's usual swings,
    and the same incident again reads as a few of them (missed). Its readings are left out instead.
    """
    keep = np.ones(len(frame), dtype=bool)
    spans = list(known)
    if not spans or not len(frame):
        return keep
    ts = pd.DatetimeIndex(frame["ts"]).as_unit("ns").asi8
    rows_of = frame.groupby("meter_id").indices
    for meter_id, start, end in spans:
        rows = rows_of.get(meter_id)
        if rows is None:
            continue
        lo, hi = pd.Timestamp(start).as_unit("ns").value, pd.Timestamp(end).as_unit("ns").value
        keep[rows[(ts[rows] >= lo) & (ts[rows] < hi)]] = False
    return keep
