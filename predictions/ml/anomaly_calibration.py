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


def meters_calibrate(
    valid: pd.DataFrame,
    *,
    holdout: pd.Series,
    recent: pd.Series,
    found: pd.Series,
    unlike: pd.Series,
    trends: dict[int, tuple[float, float]],
    unsettled: set[int],
    profiles: dict[int, list[float]],
    scales: dict[Any, float],
    days: dict[Any, float],
) -> tuple[dict[int, MeterStats], set[int], set[int]]:
    """Each meter's MeterStats, and the rooms whose spreads are borrowed from peers or from their lived-in weeks.

    `valid` (the training rows with `rel`, `norm_h`, `hour_i`) gets a `gate_row` column: the held-back rows the
    detector would not call abnormal, which judge the model's fit (`AnomalyBaseline._gate_rooms`).
    A building's `unlike` days (ran like the other kind of day) are not held-back rows: a held-back week that
    is all closure leaves the meter judged on its other rows, as a meter with too short a history is.
    """
    valid["gate_row"] = False
    meters: dict[int, MeterStats] = {}
    borrowing: set[int] = set()
    lived_in: set[int] = set()
    for group_key, rows in valid.groupby("meter_id"):
        meter_id = int(str(group_key))
        # Spreads come from the held-back rows the model never saw (in-sample residuals are too kind).
        two_days = 48 / float(rows["interval_h"].iloc[0])
        usual_day = ~unlike.loc[rows.index].to_numpy()
        held_out = holdout.loc[rows.index].to_numpy() & usual_day
        if held_out.sum() < two_days:
            held_out = usual_day if usual_day.sum() >= two_days else np.ones(len(rows), dtype=bool)
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
        held = rows[holdout.loc[rows.index].to_numpy() & usual_day]  # the Guideline's figures: the usual days
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
