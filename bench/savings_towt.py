"""CalTRACK's hourly baseline: time of week and temperature (TOWT; Mathieu et al. 2011, CalTRACK 2.0 §3).

Per calendar month, a least-squares model of hourly kWh on 168 time-of-week indicators and a
piecewise-linear temperature response (knots 30, 45, 55, 65, 75 and 90 °F), with separate temperature
slopes for the hours of the week the building is "occupied" (more than 65 % of a temperature-only
fit's residuals positive) and the others; the month weighs 1 and its neighbours 0.5 (CalTRACK's
three-month weighting). Wattwatch adds the calendar flags and bed occupancy as level terms.
Compared with the daily model by bench/savings_cambridge.py --compare (docs/savings.md: not chosen).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.savings.model import CALENDAR_KINDS, SavingsInputs

KNOTS_C = tuple((f - 32.0) * 5.0 / 9.0 for f in (30, 45, 55, 65, 75, 90))
OCCUPIED_SHARE = 0.65  # CalTRACK: a time of week is occupied when more residuals than this are positive
NEIGHBOUR_WEIGHT = 0.5


def hours_frame(
    load: pd.Series,
    *,
    timezone: str,
    temperature: pd.Series | None,
    occupancy: pd.Series | None,
    calendar: list[tuple[str, dt.date, dt.date]],
    kinds: tuple[str, ...],
) -> pd.DataFrame:
    """Hours (UTC index) with kWh, °C, occupancy, local time of week, month, date and calendar flags."""
    index = pd.DatetimeIndex(load.index)
    local = index.tz_convert(timezone)
    frame = pd.DataFrame({"kwh": load.astype(float).to_numpy()}, index=index)
    frame["temp"] = temperature.reindex(index).astype(float).to_numpy() if temperature is not None else np.nan
    frame["occupancy"] = occupancy.reindex(index).astype(float).to_numpy() if occupancy is not None else np.nan
    frame["tow"] = local.day_of_week * 24 + local.hour
    frame["month"] = local.month
    dates = np.asarray(local.date)
    frame["date"] = dates
    for kind in kinds:
        flag = np.zeros(len(frame))
        for name, first, last in calendar:
            if name == kind:
                flag[(dates >= first) & (dates <= last)] = 1.0
        frame[kind] = flag
    return frame


def temperature_segments(temp: np.ndarray) -> np.ndarray:
    """CalTRACK's piecewise-linear temperature features: min(T, B1), then the part of T in each
    interval between knots, then max(T - B6, 0)."""
    out = np.empty((len(temp), len(KNOTS_C) + 1))
    out[:, 0] = np.minimum(temp, KNOTS_C[0])
    for i in range(1, len(KNOTS_C)):
        out[:, i] = np.clip(temp - KNOTS_C[i - 1], 0.0, KNOTS_C[i] - KNOTS_C[i - 1])
    out[:, -1] = np.maximum(temp - KNOTS_C[-1], 0.0)
    return out


def _month_weights(months: np.ndarray, month: int) -> np.ndarray:
    distance = np.minimum((months - month) % 12, (month - months) % 12)
    return np.where(distance == 0, 1.0, np.where(distance == 1, NEIGHBOUR_WEIGHT, 0.0))


@dataclass
class MonthModel:
    occupied: np.ndarray  # 168 booleans
    levels: np.ndarray  # 168 time-of-week levels (NaN where the month's baseline has no such hour)
    columns: list[str]  # the other terms: temperature segments, calendar flags, occupancy
    coefficients: np.ndarray


def _design(hours: pd.DataFrame, occupied: np.ndarray, columns: list[str]) -> np.ndarray:
    tow = hours["tow"].to_numpy()
    segments = temperature_segments(hours["temp"].to_numpy(dtype=float))
    occupied_hour = occupied[tow]
    out = np.zeros((len(hours), len(columns)))
    for j, name in enumerate(columns):
        if name.startswith("occ_t"):
            out[:, j] = segments[:, int(name[5:])] * occupied_hour
        elif name.startswith("unocc_t"):
            out[:, j] = segments[:, int(name[7:])] * ~occupied_hour
        else:
            out[:, j] = hours[name].to_numpy(dtype=float)
    return out


def _group_mean(values: np.ndarray, groups: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of each column of `values` per time of week (168 rows; NaN where a group is empty)."""
    total = np.bincount(groups, weights=weights, minlength=168)
    with np.errstate(invalid="ignore", divide="ignore"):
        if values.ndim == 1:
            return np.bincount(groups, weights=values * weights, minlength=168) / total
        return np.column_stack(
            [np.bincount(groups, weights=values[:, j] * weights, minlength=168) / total for j in range(values.shape[1])]
        )


@dataclass
class TowtBaseline:
    """Twelve month models; each hour is predicted by its month's."""

    models: dict[int, MonthModel]
    p: int  # parameters of the largest month model

    def predict(self, hours: pd.DataFrame) -> np.ndarray:
        out = np.full(len(hours), np.nan)
        months = hours["month"].to_numpy()
        for month, model in self.models.items():
            rows = months == month
            if rows.any():
                part = hours[rows]
                out[rows] = model.levels[part["tow"].to_numpy()] + _design(part, model.occupied, model.columns) @ (
                    model.coefficients
                )
        return out


def towt_fit(hours: pd.DataFrame, *, extra: list[str]) -> TowtBaseline:
    """Fit on baseline hours with kWh and °C (`extra`: calendar flags and occupancy to add as levels).

    The 168 time-of-week indicators are absorbed by centring within each time of week (Frisch-Waugh):
    the same least-squares solution as with the indicators, without a 190-column regression."""
    y_all = hours["kwh"].to_numpy(dtype=float)
    temp_all = hours["temp"].to_numpy(dtype=float)
    months = hours["month"].to_numpy()
    tow_all = hours["tow"].to_numpy()
    models: dict[int, MonthModel] = {}
    for month in range(1, 13):
        if not (months == month).any():
            continue
        weights = _month_weights(months, month)
        rows = weights > 0
        y, w, temp, tow = y_all[rows], weights[rows], temp_all[rows], tow_all[rows]
        root = np.sqrt(w)
        # Occupancy: residuals of a temperature-only fit, per time of week.
        simple = np.column_stack([np.ones(len(y)), temp])
        coefficients, *_ = np.linalg.lstsq(simple * root[:, None], y * root, rcond=None)
        positive = (y - simple @ coefficients) > 0
        share = np.bincount(tow, weights=positive * w, minlength=168) / np.maximum(
            np.bincount(tow, weights=w, minlength=168), 1e-9
        )
        occupied = share > OCCUPIED_SHARE
        part = hours[rows]
        segments = temperature_segments(temp)
        columns = []
        for i in range(segments.shape[1]):
            # A segment enters only where the month's baseline hours reach into it.
            for prefix, mask in (("occ_t", occupied[tow]), ("unocc_t", ~occupied[tow])):
                if mask.any() and np.ptp(segments[mask, i]) > 0:
                    columns.append(f"{prefix}{i}")
        columns += [name for name in extra if 72 <= part[name].astype(bool).sum() <= len(part) - 72]
        x = _design(part, occupied, columns)
        x_centred = x - _group_mean(x, tow, w)[tow] if columns else x
        y_centred = y - _group_mean(y, tow, w)[tow]
        coefficients = (
            np.linalg.lstsq(x_centred * root[:, None], y_centred * root, rcond=None)[0] if columns else np.zeros(0)
        )
        levels = _group_mean(y - x @ coefficients, tow, w)
        models[month] = MonthModel(occupied=occupied, levels=levels, columns=columns, coefficients=coefficients)
    return TowtBaseline(models=models, p=max((168 + len(m.columns) for m in models.values()), default=0))


def towt_fraction(inputs: SavingsInputs, *, intervention: dt.date, until: dt.date, baseline_days: int = 365) -> float:
    """Savings fraction by the hourly model: fitted on the hours of the `baseline_days` before the
    intervention, compared over the reporting hours with kWh and °C."""
    hours = hours_frame(
        inputs.load,
        timezone=inputs.timezone,
        temperature=inputs.temperature,
        occupancy=inputs.occupancy,
        calendar=inputs.calendar,
        kinds=CALENDAR_KINDS,
    ).dropna(subset=["kwh", "temp"])
    dates = hours["date"].to_numpy()
    baseline = hours[(dates >= intervention - dt.timedelta(days=baseline_days)) & (dates < intervention)]
    reporting = hours[(dates >= intervention) & (dates <= until)]
    predicted = towt_fit(baseline, extra=list(CALENDAR_KINDS)).predict(reporting)
    known = ~np.isnan(predicted)
    total = float(predicted[known].sum())
    return (total - float(reporting["kwh"].to_numpy()[known].sum())) / total
