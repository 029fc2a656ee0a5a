"""Transformer condition telemetry: a daily top-oil temperature and dissolved-gas reading per transformer.

What an online monitor on a distribution transformer reports. Top oil follows the load and the
weather (IEEE C57.91's steady-state top-oil rise, ONAN cooling); dissolved combustible gas (TDCG,
IEEE C57.104) sits at a level that grows with age. A developing fault (network.py: the failures
announced by a warning fault) starts 10 to 60 days before its warning and then heats the oil and
gasses it, slowly at first and faster towards the failure; the repair puts both back to normal. Some units gas
for no harm (stray gassing) and recover, so rising gas alone is not a sure sign. Sudden failures
give no precursor. All noise comes from the transformer's own streams: the events do not change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from meters.simulation.estate import TransformerPlan
from meters.simulation.rng import rng_for

LOSS_RATIO = 5.0  # load losses at rated load over no-load losses, typical of distribution units
OIL_EXPONENT = 0.8  # ONAN cooling (IEEE C57.91)


@dataclass(frozen=True)
class ConditionPlan:
    transformer: int
    measured_at: dt.datetime
    top_oil_c: float
    dissolved_gas_ppm: float


def top_oil_rise(loading: np.ndarray, rated_rise: float) -> np.ndarray:
    """Steady-state top-oil rise over ambient (K) at per-unit loading, IEEE C57.91's form."""
    k = np.clip(loading, 0.0, 3.0)
    return rated_rise * ((k**2 * LOSS_RATIO + 1) / (LOSS_RATIO + 1)) ** OIL_EXPONENT


def condition_readings(
    *,
    seed: int,
    index: int,
    transformer: TransformerPlan,
    hourly_kw: np.ndarray,
    hourly_temp: np.ndarray,
    start: dt.datetime,
    now_year: int,
    developing: list[tuple[int, int]],
) -> list[ConditionPlan]:
    """One reading a day, at the day's peak-load hour, for the simulated days."""
    days = min(hourly_kw.shape[0], hourly_temp.shape[0]) // 24
    if days == 0:
        return []
    rng = rng_for(seed, "condition", transformer.code)
    age = max(now_year - transformer.installed_year, 0)
    # Oil takes hours to heat: the reading follows the mean load of the three hours up to the peak.
    smooth = np.convolve(hourly_kw[: days * 24], np.ones(3) / 3, mode="full")[: days * 24].reshape(days, 24)
    peak_hour = smooth.argmax(axis=1)
    day_index = np.arange(days)
    k = smooth[day_index, peak_hour] / 0.93 / transformer.capacity_kva
    ambient = hourly_temp[: days * 24].reshape(days, 24)[day_index, peak_hour]
    rated_rise = rng.uniform(48.0, 60.0) + 0.08 * age  # fouled radiators run hotter with age
    top_oil = ambient + top_oil_rise(k, rated_rise) + rng.normal(0, 1.2, days)
    gas = np.full(days, 60.0 + 7.0 * age) * rng.lognormal(0, 0.25)
    # Developing faults: progress x goes 0 -> 1 from the onset to the failure; heat and gas grow as x².
    for warned, failed in developing:
        onset = warned - int(rng.integers(10, 61))
        span = max(failed - onset, 1)
        x = np.clip((day_index - onset) / span, 0.0, 1.0) * (day_index <= failed)
        top_oil += rng.uniform(4.0, 12.0) * x**2
        gas += rng.uniform(500.0, 2500.0) * x**2
    # Stray gassing: about one harmless episode per transformer every three years, 30-90 days, then it fades.
    for first in np.flatnonzero(rng.random(days) < 1 / 1100):
        length = int(rng.integers(30, 91))
        t = day_index - first
        shape = np.where(t < 0, 0.0, np.where(t < length, t / length, np.exp(-(t - length) / 45.0)))
        gas += rng.uniform(150.0, 700.0) * shape
    gas = np.maximum(gas * rng.lognormal(0, 0.07, days), 1.0)
    return [
        ConditionPlan(
            index,
            start + dt.timedelta(days=int(d), hours=int(peak_hour[d])),
            round(float(top_oil[d]), 1),
            round(float(gas[d]), 0),
        )
        for d in range(days)
    ]
