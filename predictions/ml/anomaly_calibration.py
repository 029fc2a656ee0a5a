"""Each meter's spreads, centre and fit from the rows the anomaly baseline's tree never saw.

Part of `AnomalyBaseline.train` (predictions/ml/anomaly.py): after the tree has predicted every reading
(`valid["rel"]`, the relative residual), each meter is calibrated on its held-back rows, a room on the weeks
someone lived in it, with its anomalies already found and its own drift left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from predictions.ml.anomaly_features import (
    CV_RMSE_GATE,
    DENOM_FLOOR,
    MIN_DAYS_OWN,
    NMBE_GATE,
    SPREAD_BLOCK_HOURS,
    MeterStats,
    _hourly_fit,
    _window_stats,
    block_spreads,
    calibration_rows,
    lived_in_rows,
    trailing_mean,
    window_rows,
    window_sizes,
)
from predictions.ml.anomaly_known import RECURRING_DAYS

TAIL_Z = 2.33  # the 99th percentile of a normal: a tail value maps to this many spreads (as in `_window_stats`)


def meters_calibrate(
    valid: pd.DataFrame,
    *,
    holdout: pd.Series,
    recent: pd.Series,
    found: pd.Series,
    trends: dict[int, tuple[float, float]],
    unsettled: set[int],
    profiles: dict[int, list[float]],
    scales: dict[Any, float],
    days: dict[Any, float],
) -> tuple[dict[int, MeterStats], set[int], set[int]]:
    """Each meter's MeterStats, and the rooms whose spreads are borrowed from peers or from their lived-in weeks.

    `valid` (the training rows with `rel`, `norm_h`, `hour_i`) gets a `gate_row` column: the held-back rows the
    detector would not call abnormal, which judge the model's fit (`AnomalyBaseline._gate_rooms`).
    """
    valid["gate_row"] = False
    meters: dict[int, MeterStats] = {}
    borrowing: set[int] = set()
    lived_in: set[int] = set()
    for group_key, rows in valid.groupby("meter_id"):
        meter_id = int(str(group_key))
        # Spreads come from the held-back rows the model never saw (in-sample residuals are too kind).
        held_out = holdout.loc[rows.index].to_numpy()
        if held_out.sum() < 48 / float(rows["interval_h"].iloc[0]):
            held_out = np.ones(len(rows), dtype=bool)
        # A room's spreads, like its level, are those of the weeks someone lives in it.
        in_recent = recent.loc[rows.index].to_numpy()
        held_mask, source = calibration_rows(rows, held_out, in_recent)
        if source == "lived_in" and meter_id in unsettled:  # its lived-in weeks, widened to its peers'
            held_mask, source = lived_in_rows(rows, in_recent), "borrow"
        {"borrow": borrowing, "lived_in": lived_in}.get(source, set()).add(meter_id)
        r_all = rows["rel"].to_numpy()
        if meter_id in trends:
            slope, middle = trends[meter_id]
            r_all = r_all - slope * (pd.DatetimeIndex(rows["ts"]).as_unit("ns").asi8 / 86_400e9 - middle)
        # Its anomalies already found are not its usual spread nor its centre (when enough is left).
        left_out = found.loc[rows.index].to_numpy()
        calibration = held_mask & ~left_out
        excluded: np.ndarray | None = left_out
        if calibration.sum() < 48 / float(rows["interval_h"].iloc[0]):
            calibration, excluded = held_mask, None
        r = r_all[calibration]
        bias = float(np.median(r))
        sigma = max(float(1.4826 * np.median(np.abs(r - bias))), 0.03)
        win_med, win_scale = _window_stats(r_all, held_mask, float(rows["interval_h"].iloc[0]), excluded)
        q1, q3 = (float(x) for x in np.quantile(r, [0.25, 0.75]))
        hours = rows["hour_i"].to_numpy()
        # Before centres_from_peers moves the centre: the blocks are measured around the meter's own.
        blocks = block_spreads(r_all, calibration, hours, win_med[0])
        # The four-hour mean too: a room's evenings vary far more than its nights (a heater left on overnight).
        interval_h = float(rows["interval_h"].iloc[0])
        short = window_sizes(interval_h)[1]
        short_rows = window_rows(calibration, excluded, short, interval_h)
        short_blocks = block_spreads(trailing_mean(r_all, short), short_rows, hours, win_med[1])
        if source in ("lived_in", "borrow"):
            # One held-back week shows a habit only as it fell that week (an evening appliance switched on
            # later than usual, or on no evening): the peaks its recent lived-in weeks reached on several days
            # are its habit too, for each window's spreads (`habit_spreads`). Its residuals as the tree left
            # them: the held-back week's own trend says nothing of the weeks before it.
            rel, local_days = rows["rel"].to_numpy(), _local_days(rows)
            habit_rows = lived_in_rows(rows, in_recent) & ~left_out
            # Each window on the spread the detector judges it by: a reading and a four-hour mean per block of
            # the day (an evening habit must not widen the afternoon's), the day's mean on the whole day's. The
            # four-hour means count only their block's own readings here: one ending after midnight still holds
            # the evening, and the night blocks would take the evening's habit (a heater left on overnight hidden).
            sizes = window_sizes(interval_h)
            blocks = _at_least(blocks, habit_spreads(rel, habit_rows, hours, local_days, win_med[0]))
            usable = window_rows(habit_rows, left_out, sizes[1], interval_h)
            four_hours = _block_trailing_mean(rel, sizes[1], hours, local_days)
            short_blocks = _at_least(short_blocks, habit_spreads(four_hours, usable, hours, local_days, win_med[1]))
            usable = window_rows(habit_rows, left_out, sizes[2], interval_h)
            day = habit_spreads(trailing_mean(rel, sizes[2]), usable, hours, local_days, win_med[2], block_hours=24)
            win_scale[2] = max([win_scale[2], *day])
        kwh_h = rows["norm_h"].to_numpy()
        profile = profiles[meter_id]
        prof = np.array(profile)[hours]
        prel = (kwh_h - prof) / (prof + DENOM_FLOOR * scales[meter_id])
        tier = "own" if days[meter_id] >= MIN_DAYS_OWN else "cohort"
        stats = MeterStats(
            scale=float(scales[meter_id]),
            sigma=sigma,
            bias=bias,
            q1=q1,
            q3=q3,
            tier=tier,
            days=float(days[meter_id]),
            profile=profile,
            win_med=win_med,
            win_scale=win_scale,
            profile_sigma=max(float(1.4826 * np.median(np.abs(prel - np.median(prel)))), 0.03),
            block_scale=blocks,
            short_block_scale=short_blocks,
        )
        held = rows[holdout.loc[rows.index]]
        if len(held):
            stats.cv_rmse, stats.nmbe = _hourly_fit(held)
        # The gate judges the model, not the meter's incidents: it leaves out the
        # readings the detector itself calls abnormal (|z| >= 5), so an incident cannot mute its own meter.
        # Out of sample, as the Guideline intends: the held-back recent rows (all rows when too few).
        clean_mask = (np.abs((r_all - bias) / sigma) < 5) & held_out
        valid.loc[rows.index, "gate_row"] = clean_mask
        if rows["is_main"].iloc[0]:
            gate_cv, gate_nmbe = _hourly_fit(rows[clean_mask])
            stats.gate_cv_rmse, stats.gate_nmbe = gate_cv, gate_nmbe
            if gate_cv is not None and gate_nmbe is not None:
                stats.fit = gate_cv <= CV_RMSE_GATE and abs(gate_nmbe) <= NMBE_GATE
        meters[meter_id] = stats
    return meters, borrowing, lived_in


def _local_days(rows: pd.DataFrame) -> np.ndarray:
    """Each row's local day, as the hour count (since the epoch) of its local midnight."""
    hours_since_epoch = pd.DatetimeIndex(rows["ts"]).as_unit("ns").asi8 / 3_600e9
    return np.round(hours_since_epoch - rows["hour"].to_numpy(dtype=float)).astype(np.int64)


def _block_trailing_mean(values: np.ndarray, window: int, hours: np.ndarray, days: np.ndarray) -> np.ndarray:
    """`trailing_mean` that never reaches back past the start of its reading's block of the day."""
    block = days * 24 + (np.floor(np.nan_to_num(hours)).astype(np.int64) % 24) // SPREAD_BLOCK_HOURS
    index = np.arange(len(values))
    starts = np.maximum.accumulate(np.where(np.r_[True, block[1:] != block[:-1]], index, 0)) if len(values) else index
    lo = np.maximum(starts, index - window + 1)
    cumulative = np.cumsum(np.r_[0.0, values])
    return (cumulative[index + 1] - cumulative[lo]) / (index + 1 - lo)


def _at_least(spreads: list[float], floors: list[float]) -> list[float]:
    if not spreads or not floors:
        return spreads
    return [max(spread, floor) for spread, floor in zip(spreads, floors, strict=True)]


def habit_spreads(
    rel: np.ndarray,
    rows: np.ndarray,
    hours: np.ndarray,
    days: np.ndarray,
    centre: float,
    *,
    block_hours: int = SPREAD_BLOCK_HOURS,
) -> list[float]:
    """Per block of the day, the spread that a peak the room reached on `RECURRING_DAYS` different days reads as tail.

    A room's block spreads come from one held-back week, which shows a habit only as it fell that week: a
    heavy appliance switched on at 21:00 all that week, or on no evening at all, leaves the 16:00-20:00 block
    (or every evening) quiet, and the same appliance at 18:15 the week after reads as many spreads. On the
    `rows` (the room's recent lived-in weeks, its anomalies already found left out), each day's highest
    residual in each block is taken; the `RECURRING_DAYS`-th highest of those days, mapped like a 99th
    percentile (`TAIL_Z`), is the block's floor. A peak on fewer days (an incident) sets no floor, as findings
    on fewer days are incidents (`anomaly_known.recurring`). 0 where a block has fewer such days. With
    `block_hours=24`, one floor for the whole day (the day window's `win_scale`).
    """
    pick = rows & np.isfinite(rel)
    if not pick.any():
        return []
    block = (np.floor(np.nan_to_num(hours[pick])).astype(int) % 24) // block_hours
    peaks = (
        pd.DataFrame({"block": block, "day": days[pick], "v": rel[pick] - centre}).groupby(["block", "day"])["v"].max()
    )
    floors = []
    for b in range(24 // block_hours):
        values = np.sort(peaks.loc[b].to_numpy())[::-1] if b in peaks.index.get_level_values(0) else np.array([])
        floors.append(max(float(values[RECURRING_DAYS - 1]), 0.0) / TAIL_Z if len(values) >= RECURRING_DAYS else 0.0)
    return floors
