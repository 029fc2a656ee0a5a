"""A meter's readings around an incident against the current baseline's expected value and band.

The band is what the baseline considers usual for a single reading: the expected value plus the
meter's typical relative residual (median) +- `BAND_SIGMAS` robust spreads of a single reading at
that time of day (a room with a heavy appliance most evenings has a wider band in the evening),
times the same denominator detection divides by. Detection flags far outside it (a reading at z 8, windows at 6),
so a flagged span stands clearly out of the band. Recomputed from the current model, so it shows
what the baseline expects today, not necessarily the version that raised the alert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from predictions.detection.baselines import baseline_current
from predictions.detection.frames import frame_load
from predictions.models import Anomaly

BAND_SIGMAS = 3.0
HOURLY_PAST = dt.timedelta(days=7)  # longer windows are shown per hour, not per interval


@dataclass
class BandSeries:
    """kWh per hour of one meter at each time, with the expected value and band where a baseline exists."""

    ts: list[dt.datetime] = field(default_factory=list)
    actual: list[float | None] = field(default_factory=list)
    expected: list[float | None] | None = None
    low: list[float | None] | None = None
    high: list[float | None] | None = None
    model_version: int | None = None
    tier: str = ""
    fit: bool = True


def meter_band_series(*, meter_id: int, start: dt.datetime, end: dt.datetime) -> BandSeries:
    """Readings of the meter in [start, end) with the current baseline's expectation (none when untrained)."""
    frame = frame_load(meter_ids=[meter_id], start=start, end=end)
    if frame.empty:
        return BandSeries()
    interval_h = frame["interval_h"].to_numpy(dtype=float)
    columns: dict[str, Any] = {"ts": frame["ts"], "actual": frame["kwh"].to_numpy(dtype=float) / interval_h}
    loaded = baseline_current(retrain=False)
    series = BandSeries()
    if loaded is not None:
        model, version = loaded
        prediction = model.predict(frame, with_iforest=False)
        own = columns["actual"][columns["actual"] > 0]
        stats = model.stats_for(
            meter_id, is_main=float(frame["is_main"].iloc[0]), bed_type=float(frame["bed_type"].iloc[0]), own_kwh_h=own
        )
        expected_h = prediction.expected / interval_h
        denom_h = prediction.denom / interval_h
        # A single reading's spread at its own time of day, as detection judges it (`MeterStats.point_scale`).
        middle, spread = stats.win_med[0], stats.point_scale(frame["hour"].to_numpy(dtype=float))
        columns["expected"] = expected_h
        columns["low"] = np.maximum(expected_h + (middle - BAND_SIGMAS * spread) * denom_h, 0.0)
        columns["high"] = expected_h + (middle + BAND_SIGMAS * spread) * denom_h
        series.model_version, series.tier, series.fit = version.pk, stats.tier, bool(stats.fit)
    table = pd.DataFrame(columns).set_index("ts")
    if end - start > HOURLY_PAST:
        table = table.resample("1h").mean()
    series.ts = [stamp.to_pydatetime() for stamp in table.index]
    series.actual = _values(table["actual"])
    if "expected" in table:
        series.expected, series.low, series.high = (_values(table[c]) for c in ("expected", "low", "high"))
    return series


def _values(column: pd.Series) -> list[float | None]:
    """Rounded values, None where there was no reading (a gap stays a gap in the chart)."""
    return [None if np.isnan(v) else round(float(v), 4) for v in column.to_numpy(dtype=float)]


def anomalies_on_meter(*, user: Any, meter_id: int, start: dt.datetime, end: dt.datetime) -> list[Anomaly]:
    """The user's visible incidents on the meter that overlap [start, end), oldest first."""
    return list(
        Anomaly.objects.visible_to(user).filter(meter_id=meter_id, start__lt=end, end__gt=start).order_by("start", "id")
    )
