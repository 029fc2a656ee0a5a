"""Measured savings: a daily baseline fitted before an intervention, avoided energy after it.

CalTRACK-style daily model (see docs/savings.md for why this one): daily kWh against heating and
cooling degree days whose balance points are searched on a grid, with day-of-week, public holiday,
academic calendar and occupancy terms. Uncertainty is ASHRAE Guideline 14's fractional savings
uncertainty with the lag-1 autocorrelation correction. Pure functions: series in, numbers out.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.savings.guideline14 import (
    cv_rmse,
    fraction_uncertainty,
    guideline14_problems,
    lag1_autocorrelation,
    nmbe,
)

BASELINE_DAYS = 365
MIN_BASELINE_DAYS = 180
MIN_HOURS_PER_DAY = 22  # a day with fewer readings is left out (its sum would be too low)
HEATING_BALANCE_POINTS = tuple(float(t) for t in range(8, 21))
COOLING_BALANCE_POINTS = tuple(float(t) for t in range(16, 27))
# Out-of-sample check (docs/savings.md): the baseline model is refitted at up to HOLDOUT_WINDOWS earlier
# origins and predicts the pre-intervention days after each; the errors of those predictions (truth: no
# saving) widen the interval, because a building also changes for reasons that are not the intervention.
HOLDOUT_WINDOWS = 3
# A held-out fit mimics the real one only when it sees (nearly) a whole year: a shorter fit misses a season
# or a vacation and extrapolates, which would inflate the error. The nearest window may use less (down to
# MIN_BASELINE_DAYS) when the history allows nothing better.
HOLDOUT_FIT_DAYS = 330
HOLDOUT_Z = 1.645  # normal quantile of a two-sided 90 % interval, applied to the holdout RMS error
# Recency weighting of the baseline days (docs/savings.md): off by default. A half-life of 30 days had the
# lowest error on the Cambridge development dates, but on fresh dates it put fewer cases within 3 points, and
# on the simulated hostel it measured a 15 % cut made at term start as 9.7 % (12.7 % without): the weeks
# before such a change are a vacation. `measure_savings --half-life DAYS` turns it on.
HALF_LIFE_DAYS: float | None = None
WEIGHTED_HALF_LIFE_DAYS = 30.0  # the half-life the comparison chose, for benches and --half-life
# Calendar kinds we give a term each (AcademicPeriod kinds); "holiday" is a public holiday.
CALENDAR_KINDS = ("term", "exams", "vacation", "holiday")


class SavingsError(ValueError):
    """The data cannot give a baseline or a reporting period; the message says what and where."""


@dataclass
class SavingsInputs:
    """Hourly load (kWh, UTC index, NaN = missing) with what the baseline may use."""

    load: pd.Series
    timezone: str = "UTC"
    temperature: pd.Series | None = None  # hourly °C, UTC index
    occupancy: pd.Series | None = None  # hourly share of beds occupied (0..1), UTC index
    calendar: list[tuple[str, dt.date, dt.date]] = field(default_factory=list)  # (kind, first, last day)
    label: str = "the series"  # named in error messages: "meter M1", "hostel 3", "site north"
    comparison: pd.Series | None = None  # hourly kWh of an untouched comparison building (comparison.py)
    comparison_label: str | None = None


@dataclass
class Baseline:
    """A fitted daily model: which terms, their coefficients and how well it fits the baseline."""

    columns: list[str]
    coefficients: np.ndarray
    heating_balance_c: float | None
    cooling_balance_c: float | None
    n: int
    p: int
    cv_rmse: float
    nmbe: float
    r2: float
    autocorrelation: float

    def predict(self, days: pd.DataFrame) -> np.ndarray:
        return design(days, self.columns, self.heating_balance_c, self.cooling_balance_c) @ self.coefficients


@dataclass
class SavingsResult:
    """Avoided energy over the reporting period, as kWh and as a fraction of the baseline with its interval."""

    label: str
    intervention: dt.date
    until: dt.date
    baseline_start: dt.date
    baseline_days: int
    reporting_days: int
    baseline_kwh: float  # the baseline's prediction over the reporting days with data
    actual_kwh: float
    savings_kwh: float
    savings_fraction: float
    fraction_low: float
    fraction_high: float
    baseline_cv_rmse: float
    baseline_nmbe: float
    baseline_r2: float
    heating_balance_c: float | None
    cooling_balance_c: float | None
    terms: list[str]
    daily: pd.DataFrame  # per reporting day: baseline, actual, cumulative savings
    guideline14_half_width: float = 0.0  # the interval's half-width from the baseline's own scatter alone
    holdout_days: int = 0  # length of each held-out window (the reporting period's, where the data allows)
    holdout_errors: list[float] = field(default_factory=list)  # savings fraction measured on held-out days
    half_life_days: float | None = None  # the baseline's recency weighting (None: every day weighs the same)
    baseline_problems: list[str] = field(default_factory=list)  # Guideline 14 limits the baseline misses
    comparison: str | None = None  # the comparison building in the baseline, if any

    @property
    def baseline_fit(self) -> bool:
        """Whether the baseline meets Guideline 14's limits (`guideline14_problems`): if not, its interval
        is not a measurement and is not shown as one."""
        return not self.baseline_problems

    def summary(self) -> dict[str, object]:
        return {
            "label": self.label,
            "intervention": self.intervention.isoformat(),
            "until": self.until.isoformat(),
            "baseline_start": self.baseline_start.isoformat(),
            "baseline_days": self.baseline_days,
            "reporting_days": self.reporting_days,
            "baseline_kwh": round(self.baseline_kwh, 3),
            "actual_kwh": round(self.actual_kwh, 3),
            "savings_kwh": round(self.savings_kwh, 3),
            "savings_fraction": round(self.savings_fraction, 5),
            "fraction_low": round(self.fraction_low, 5),
            "fraction_high": round(self.fraction_high, 5),
            "baseline_cv_rmse": round(self.baseline_cv_rmse, 5),
            "baseline_nmbe": round(self.baseline_nmbe, 6) + 0.0,
            "baseline_r2": round(self.baseline_r2, 4),
            "heating_balance_c": self.heating_balance_c,
            "cooling_balance_c": self.cooling_balance_c,
            "terms": self.terms,
            "baseline_holdout_error": _rounded(self.baseline_holdout_error),
            "baseline_holdout_rms": _rounded(self.baseline_holdout_rms),
            "baseline_holdout_windows": len(self.holdout_errors),
            "baseline_holdout_days": self.holdout_days,
            "guideline14_half_width": round(self.guideline14_half_width, 5),
            "baseline_half_life_days": self.half_life_days,
            "baseline_fit": self.baseline_fit,
            "baseline_problems": self.baseline_problems,
            "baseline_comparison": self.comparison,
        }

    @property
    def baseline_holdout_error(self) -> float | None:
        """Mean savings fraction the baseline model measured on held-out days before the intervention
        (where the truth is 0): its out-of-sample bias. None when the history is too short to hold out."""
        return float(np.mean(self.holdout_errors)) if self.holdout_errors else None

    @property
    def baseline_holdout_rms(self) -> float | None:
        return float(np.sqrt(np.mean(np.square(self.holdout_errors)))) if self.holdout_errors else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 5)


def _day_sum(hourly: Any) -> pd.Series:
    hours = hourly.count()
    return (hourly.sum(min_count=1) * 24.0 / hours.where(hours > 0)).where(hours >= MIN_HOURS_PER_DAY)


def daily_frame(inputs: SavingsInputs) -> pd.DataFrame:
    """Local days with kWh (None when under MIN_HOURS_PER_DAY hours), mean °C, occupancy and calendar flags."""
    load = inputs.load.astype(float)
    if load.empty:
        return pd.DataFrame(columns=["kwh", "temp", "occupancy", "dow", *CALENDAR_KINDS])
    frame = pd.DataFrame({"load": load})
    index = pd.DatetimeIndex(frame.index)
    frame["temp"] = inputs.temperature.reindex(index).astype(float) if inputs.temperature is not None else np.nan
    frame["occupancy"] = inputs.occupancy.reindex(index).astype(float) if inputs.occupancy is not None else np.nan
    frame["comparison"] = inputs.comparison.reindex(index).astype(float) if inputs.comparison is not None else np.nan
    frame["day"] = index.tz_convert(inputs.timezone).tz_localize(None).normalize()
    grouped = frame.groupby("day")
    days = pd.DataFrame(
        {
            "kwh": _day_sum(grouped["load"]),
            "temp": grouped["temp"].mean(),
            "occupancy": grouped["occupancy"].mean(),
            "comparison": _day_sum(grouped["comparison"]),
        }
    )
    days.index = pd.DatetimeIndex(days.index)
    days["dow"] = days.index.day_of_week
    days["years"] = (days.index - pd.Timestamp("2000-01-01")).days / 365.25  # for a linear trend term
    dates = days.index.date
    for kind in CALENDAR_KINDS:
        flag = np.zeros(len(days))
        for name, first, last in inputs.calendar:
            if name == kind:
                flag[(dates >= first) & (dates <= last)] = 1.0
        days[kind] = flag
    return days


def design(days: pd.DataFrame, columns: list[str], heating: float | None, cooling: float | None) -> np.ndarray:
    """The regression matrix for the named columns (intercept, hdd, cdd, dow_k, calendar flags, occupancy)."""
    out = np.empty((len(days), len(columns)))
    temp = days["temp"].to_numpy(dtype=float)
    for j, name in enumerate(columns):
        if name == "intercept":
            out[:, j] = 1.0
        elif name == "hdd":
            out[:, j] = np.maximum((heating or 0.0) - temp, 0.0)
        elif name == "cdd":
            out[:, j] = np.maximum(temp - (cooling or 0.0), 0.0)
        elif name.startswith("dow_"):
            out[:, j] = (days["dow"].to_numpy() == int(name[4:])).astype(float)
        else:
            out[:, j] = days[name].to_numpy(dtype=float)
    return out


def _candidate_columns(
    days: pd.DataFrame,
    *,
    calendar: bool,
    occupancy: bool,
    day_of_week: bool,
    trend: bool = False,
    comparison: bool = False,
) -> list[str]:
    columns = ["intercept"] + (["years"] if trend else [])
    if day_of_week:
        columns += [f"dow_{k}" for k in range(1, 7) if (days["dow"] == k).any() and (days["dow"] != k).any()]
    if calendar:
        # A flag enters only where the baseline holds days with and without it (else it cannot be estimated).
        columns += [kind for kind in CALENDAR_KINDS if 3 <= days[kind].sum() <= len(days) - 3]
    if occupancy and days["occupancy"].notna().all() and float(days["occupancy"].std()) > 0.01:
        columns.append("occupancy")
    if comparison and days["comparison"].notna().all():
        columns.append("comparison")
    return columns


def baseline_fit(
    days: pd.DataFrame,
    *,
    calendar: bool = True,
    occupancy: bool = True,
    day_of_week: bool = True,
    trend: bool = False,
    half_life_days: float | None = None,
    comparison: bool = False,
) -> Baseline:
    """Least squares over every (heating, cooling) balance point pair and the models without either;
    the lowest BIC wins, and a heating or cooling slope must be positive (CalTRACK's rule).

    With `half_life_days`, a day's weight halves every `half_life_days` before the last baseline day
    (weighted least squares: recent weeks set the level, the whole year still sets the slopes)."""
    base = _candidate_columns(
        days, calendar=calendar, occupancy=occupancy, day_of_week=day_of_week, trend=trend, comparison=comparison
    )
    y = days["kwh"].to_numpy(dtype=float)
    n = len(y)
    root = np.ones(n)
    if half_life_days is not None and n:
        age = (days.index.max() - pd.DatetimeIndex(days.index)).days.to_numpy(dtype=float)
        root = np.sqrt(0.5 ** (age / half_life_days))
    options: list[tuple[float | None, float | None]] = [(None, None)]
    has_temp = days["temp"].notna().all()
    if has_temp:
        options += [(h, None) for h in HEATING_BALANCE_POINTS]
        options += [(None, c) for c in COOLING_BALANCE_POINTS]
        options += [(h, c) for h in HEATING_BALANCE_POINTS for c in COOLING_BALANCE_POINTS if c >= h]
    best: tuple[float, list[str], np.ndarray, float | None, float | None] | None = None
    for heating, cooling in options:
        columns = base + (["hdd"] if heating is not None else []) + (["cdd"] if cooling is not None else [])
        x = design(days, columns, heating, cooling)
        coefficients, *_ = np.linalg.lstsq(x * root[:, None], y * root, rcond=None)
        if heating is not None and coefficients[columns.index("hdd")] <= 0:
            continue
        if cooling is not None and coefficients[columns.index("cdd")] <= 0:
            continue
        sse = float(np.sum((root * (y - x @ coefficients)) ** 2)) / float(np.mean(root**2))
        bic = n * math.log(max(sse, 1e-12) / n) + len(columns) * math.log(n)
        if best is None or bic < best[0]:
            best = (bic, columns, coefficients, heating, cooling)
    assert best is not None  # the (None, None) model always fits
    _, columns, coefficients, heating, cooling = best
    predicted = design(days, columns, heating, cooling) @ coefficients
    p = len(columns)
    residuals = y - predicted
    total = float(np.sum((y - y.mean()) ** 2))
    return Baseline(
        columns=columns,
        coefficients=coefficients,
        heating_balance_c=heating,
        cooling_balance_c=cooling,
        n=n,
        p=p,
        cv_rmse=cv_rmse(y, predicted, parameters=p),
        nmbe=nmbe(y, predicted, parameters=p),
        r2=1 - float(np.sum(residuals**2)) / total if total > 0 else 0.0,
        autocorrelation=lag1_autocorrelation(residuals),
    )


def _unseen(fit: pd.DataFrame, held: pd.DataFrame) -> bool:
    """Whether held-out days hold a calendar kind the fit has (almost) no days of, or occupancy outside
    the fit's range: predicting them would measure extrapolation, not how the building changes."""
    if any(held[kind].sum() > 0 and fit[kind].sum() < 3 for kind in CALENDAR_KINDS):
        return True
    occupancy, seen = held["occupancy"].dropna(), fit["occupancy"].dropna()
    return not occupancy.empty and not seen.empty and not occupancy.between(seen.min() - 0.05, seen.max() + 0.05).all()


def holdout_errors(
    usable: pd.DataFrame,
    *,
    intervention: dt.date,
    length: int,
    baseline_days: int,
    windows: int = HOLDOUT_WINDOWS,
    **options: Any,
) -> list[float]:
    """Fit the same model at origins `length`, 2 x `length`, ... days before the intervention (each on the
    `baseline_days` before its origin) and measure the savings fraction over the `length` days after each
    origin, which are all before the intervention: what the model "finds" where nothing was done."""
    dates = np.asarray(pd.DatetimeIndex(usable.index).date)
    errors = []
    for k in range(1, windows + 1):
        origin = intervention - dt.timedelta(days=k * length)
        end = origin + dt.timedelta(days=length)
        fit = usable[(dates >= origin - dt.timedelta(days=baseline_days)) & (dates < origin)]
        held = usable[(dates >= origin) & (dates < end)]
        if len(held) < max(length // 2, 7) or len(fit) < (MIN_BASELINE_DAYS if k == 1 else HOLDOUT_FIT_DAYS):
            break
        if _unseen(fit, held):
            break  # the held-out days hold conditions the fit never saw: that would test extrapolation
        predicted = baseline_fit(fit, **options).predict(held)
        total = float(predicted.sum())
        if total <= 0:
            break
        errors.append((total - float(held["kwh"].sum())) / total)
        if len(fit) < HOLDOUT_FIT_DAYS:
            break  # the history before this window is shorter still
    return errors


def savings_measure(
    inputs: SavingsInputs,
    *,
    intervention: dt.date,
    until: dt.date | None = None,
    baseline_days: int = BASELINE_DAYS,
    calendar: bool = True,
    occupancy: bool = True,
    day_of_week: bool = True,
    longest: int | None = None,
    holdout: bool = True,
    trend: bool = False,
    half_life_days: float | None = HALF_LIFE_DAYS,
    comparison: bool = True,
) -> SavingsResult:
    """Fit the baseline on the `baseline_days` before `intervention` and measure savings from it to `until`
    (inclusive; default: the last day with data, at most `longest` days from the intervention).

    The 90 % interval combines Guideline 14's term (the baseline's scatter on its own days) with the
    baseline model's error on held-out days before the intervention (`holdout_errors`), in quadrature."""
    days = daily_frame(inputs)
    with_data = days.dropna(subset=["kwh"])
    if with_data.empty:
        raise SavingsError(f"{inputs.label} has no readings")
    first, last = with_data.index.min().date(), with_data.index.max().date()
    if not first < intervention <= last:
        raise SavingsError(
            f"intervention {intervention} is outside the data of {inputs.label} ({first} to {last}): "
            "it needs days with readings before and after it"
        )
    until = until or last
    if longest is not None:
        until = min(until, intervention + dt.timedelta(days=longest - 1))
    if until < intervention:
        raise SavingsError(f"--until {until} is before the intervention {intervention}")
    if until > last:
        raise SavingsError(f"--until {until} is after the last day with data of {inputs.label} ({last})")
    start = intervention - dt.timedelta(days=baseline_days)
    usable = with_data.dropna(subset=["temp"]) if inputs.temperature is not None else with_data
    comparison = comparison and inputs.comparison is not None
    if comparison:
        usable = usable.dropna(subset=["comparison"])  # a day counts only when the comparison has it too
    dates = np.asarray(pd.DatetimeIndex(usable.index).date)
    before = usable[(dates >= start) & (dates < intervention)]
    if len(before) < MIN_BASELINE_DAYS:
        raise SavingsError(
            f"too little baseline data for {inputs.label}: {len(before)} days with readings"
            f"{' and weather' if inputs.temperature is not None else ''} from {start} to "
            f"{intervention - dt.timedelta(days=1)}; at least {MIN_BASELINE_DAYS} are needed"
        )
    after = usable[(dates >= intervention) & (dates <= until)]
    if after.empty:
        raise SavingsError(f"no days with readings for {inputs.label} from {intervention} to {until}")
    if inputs.occupancy is not None and after["occupancy"].isna().any():
        occupancy = False  # the roster does not cover the reporting period
    baseline = baseline_fit(
        before,
        calendar=calendar,
        occupancy=occupancy,
        day_of_week=day_of_week,
        trend=trend,
        half_life_days=half_life_days,
        comparison=comparison,
    )
    predicted = baseline.predict(after)
    actual = after["kwh"].to_numpy(dtype=float)
    baseline_kwh = float(predicted.sum())
    savings = baseline_kwh - float(actual.sum())
    fraction = savings / baseline_kwh if baseline_kwh > 0 else float("nan")
    # Guideline 14's term is the ordinary least-squares one over the baseline days (its n' and t with a
    # weighted fit's effective days, about 86 at a 30-day half-life, leave too few degrees of freedom for
    # ~20 terms and blow up); what the weighting adds is in the held-out error, refitted the same way.
    g14 = fraction_uncertainty(
        cv=baseline.cv_rmse, n=baseline.n, m=len(after), p=baseline.p, autocorrelation=baseline.autocorrelation
    )
    errors: list[float] = []
    span = (until - intervention).days + 1
    length = 0
    if holdout:
        options: dict[str, Any] = {
            "calendar": calendar,
            "occupancy": occupancy,
            "day_of_week": day_of_week,
            "trend": trend,
            "half_life_days": half_life_days,
            "comparison": comparison,
        }
        # The reporting period's length where the history allows it, else shorter windows.
        for length in sorted({span, min(span, 91), min(span, 28)}, reverse=True):
            errors = holdout_errors(
                usable[dates < intervention],
                intervention=intervention,
                length=length,
                baseline_days=baseline_days,
                **options,
            )
            if errors:
                break
    holdout_rms = float(np.sqrt(np.mean(np.square(errors)))) if errors else 0.0
    half = math.sqrt(g14**2 + (HOLDOUT_Z * holdout_rms) ** 2)
    daily = pd.DataFrame({"baseline_kwh": predicted, "actual_kwh": actual}, index=after.index)
    daily["cumulative_savings_kwh"] = (daily["baseline_kwh"] - daily["actual_kwh"]).cumsum()
    return SavingsResult(
        label=inputs.label,
        intervention=intervention,
        until=until,
        baseline_start=start,
        baseline_days=baseline.n,
        reporting_days=len(after),
        baseline_kwh=baseline_kwh,
        actual_kwh=float(actual.sum()),
        savings_kwh=savings,
        savings_fraction=fraction,
        fraction_low=fraction - half,
        fraction_high=fraction + half,
        baseline_cv_rmse=baseline.cv_rmse,
        baseline_nmbe=baseline.nmbe,
        baseline_r2=baseline.r2,
        heating_balance_c=baseline.heating_balance_c,
        cooling_balance_c=baseline.cooling_balance_c,
        terms=baseline.columns,
        daily=daily,
        guideline14_half_width=g14,
        holdout_days=length if errors else 0,
        holdout_errors=errors,
        half_life_days=half_life_days,
        comparison=inputs.comparison_label if comparison else None,
        baseline_problems=guideline14_problems(
            cv=baseline.cv_rmse, nmbe_value=baseline.nmbe, reporting_days=len(after)
        ),
    )
