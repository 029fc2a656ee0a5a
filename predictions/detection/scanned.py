"""What detection expected of each meter, hour by hour, kept so pages show the detector's own expected value.

Each run records every hour its window touches, aggregated over all the readings of that hour it loaded (the
window's context included), so a later run that sees more of an hour overwrites it with the fuller sum.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from predictions.detection.detectors import DetectorConfig, consumption_strength
from predictions.ml.anomaly import Prediction
from predictions.models import ModelVersion, ScannedHour


@dataclass(frozen=True)
class HourScan:
    """One meter's hour as detection saw it."""

    meter_id: int
    hour: dt.datetime
    expected_kwh: float
    actual_kwh: float
    readings: int
    strength: float


def hours_summarise(
    *, frame: pd.DataFrame, pred: Prediction, config: DetectorConfig, start: dt.datetime, end: dt.datetime
) -> list[HourScan]:
    """The hours touched by [start, end), per meter: expected and actual kWh, readings, strongest evidence."""
    if frame.empty:
        return []
    ts = frame["ts"].dt.tz_convert("UTC")
    hour = ts.dt.floor("h")
    kwh = frame["kwh"].to_numpy(dtype=float)
    first_hour = pd.Timestamp(start).tz_convert("UTC").floor("h")
    keep = (hour >= first_hour).to_numpy() & (ts < pd.Timestamp(end)).to_numpy() & ~np.isnan(kwh)
    parts = pd.DataFrame(
        {
            "meter_id": frame["meter_id"].to_numpy(),
            "hour": hour.to_numpy(),
            "expected": pred.expected,
            "kwh": kwh,
            "strength": consumption_strength(pred=pred, config=config),
        }
    )[keep]
    if parts.empty:
        return []
    grouped = parts.groupby(["meter_id", "hour"], sort=False).agg(
        expected=("expected", "sum"), actual=("kwh", "sum"), readings=("kwh", "size"), strength=("strength", "max")
    )
    return [
        HourScan(
            meter_id=int(meter_id),
            hour=_utc(at),
            expected_kwh=float(row.expected),
            actual_kwh=float(row.actual),
            readings=int(row.readings),
            strength=float(row.strength),
        )
        for (meter_id, at), row in zip(grouped.index, grouped.itertuples(index=False), strict=True)
    ]


def _utc(at: object) -> dt.datetime:
    stamp = pd.Timestamp(at)  # type: ignore[arg-type]
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).to_pydatetime()


def scanned_hours_store(*, hours: Iterable[HourScan], version: ModelVersion | None) -> int:
    """Upsert the hours a run scanned (one row per meter and hour); returns how many were written."""
    rows = [
        ScannedHour(
            meter_id=h.meter_id,
            hour=h.hour,
            expected_kwh=round(h.expected_kwh, 4),
            actual_kwh=round(h.actual_kwh, 4),
            readings=min(h.readings, 32767),
            strength=round(h.strength, 3),
            model_version=version,
        )
        for h in hours
    ]
    if rows:
        ScannedHour.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["meter", "hour"],
            update_fields=["expected_kwh", "actual_kwh", "readings", "strength", "model_version", "scanned_at"],
        )
    return len(rows)
