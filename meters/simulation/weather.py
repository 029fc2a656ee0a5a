"""Hourly weather of a hot-summer inland site: seasons, daily cycle, heat waves, cold spells, rain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from meters.simulation.rng import rng_for
from meters.simulation.timeline import STEPS_PER_HOUR, Timeline


@dataclass(frozen=True)
class WeatherSeries:
    """One value per UTC hour from the timeline's start (the last hour may be partial)."""

    epoch: np.ndarray
    temperature_c: np.ndarray
    humidity_pct: np.ndarray
    rainfall_mm: np.ndarray
    wind_kmh: np.ndarray
    pressure_hpa: np.ndarray
    irradiance_wm2: np.ndarray

    def per_step(self, steps: int) -> np.ndarray:
        """Temperature at each 15-minute step, interpolated between hours."""
        hours = np.arange(steps, dtype=np.float64) / STEPS_PER_HOUR
        return np.interp(hours, np.arange(len(self.temperature_c)), self.temperature_c).astype(np.float32)


def weather_build(*, seed: int, site_code: str, timeline: Timeline, latitude: float) -> WeatherSeries:
    """Deterministic weather for every hour of the timeline."""
    rng = rng_for(seed, "weather", site_code)
    hours = (timeline.steps + STEPS_PER_HOUR - 1) // STEPS_PER_HOUR
    epoch = timeline.epoch[0] + 3600 * np.arange(hours, dtype=np.int64) if timeline.steps else np.zeros(0, np.int64)
    stamps = pd.to_datetime(epoch, unit="s", utc=True).tz_convert(timeline.timezone)
    doy = np.asarray(stamps.day_of_year, dtype=np.float64)
    local_hour = np.asarray(stamps.hour, dtype=np.float64)
    day = timeline.day[::STEPS_PER_HOUR][:hours].astype(np.int64)
    days = timeline.days

    season = np.sin(2 * np.pi * (doy - 110) / 365.0)  # +1 late July, -1 late January
    mean = 14.5 + 10.5 * season
    amplitude = 5.5 + 2.5 * season
    diurnal = amplitude * np.cos(2 * np.pi * (local_hour - 16) / 24.0)

    # Day-to-day weather: an AR(1) anomaly, plus multi-day heat waves in summer and cold spells in winter.
    shocks = rng.normal(0.0, 1.6, size=days + 1)
    anomaly = np.zeros(days + 1)
    for i in range(1, days + 1):
        anomaly[i] = 0.78 * anomaly[i - 1] + shocks[i]
    day_doy = doy[np.searchsorted(day, np.arange(days + 1)).clip(0, max(hours - 1, 0))] if hours else np.zeros(1)
    events = np.zeros(days + 1)
    starts = rng.random(days + 1)
    lengths = rng.integers(3, 9, size=days + 1)
    sizes = rng.uniform(4.0, 8.0, size=days + 1)
    i = 0
    while i <= days:
        summer = 160 <= day_doy[i] <= 250
        winter = day_doy[i] <= 50 or day_doy[i] >= 340
        if (summer or winter) and starts[i] < 0.03:
            n = int(lengths[i])
            ramp = np.sin(np.linspace(0.2, np.pi - 0.2, n))
            events[i : i + n] += (1 if summer else -1) * sizes[i] * ramp[: len(events[i : i + n])]
            i += n + 4
        else:
            i += 1
    daily = (anomaly + events)[day]

    rain_day = rng.random(days + 1) < np.where((day_doy >= 150) & (day_doy <= 260), 0.06, 0.22)
    rain_hours = rng.random(hours) < 0.35
    rainfall = np.where(rain_day[day] & rain_hours, rng.exponential(1.2, size=hours), 0.0)
    temperature = mean + diurnal + daily + rng.normal(0.0, 0.35, size=hours) - 2.0 * (rainfall > 0)
    humidity = np.clip(78 - 1.7 * (temperature - 10) + 25 * (rainfall > 0) + rng.normal(0, 4, size=hours), 8, 100)
    pressure = 1016 + 4 * np.sin(2 * np.pi * np.arange(hours) / 170.0) - 9 * rain_day[day] + rng.normal(0, 1, hours)
    wind = np.abs(8 + 6 * rng.standard_normal(hours) + 10 * rain_day[day])

    declination = np.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    phi = np.radians(latitude)
    hour_angle = np.radians(15 * (local_hour - 13.5))  # solar noon near 13:30 wall-clock time in Spain
    elevation = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(hour_angle)
    irradiance = np.clip(1000 * elevation, 0, None) * np.where(rain_day[day], 0.35, 0.95)

    return WeatherSeries(
        epoch=epoch,
        temperature_c=np.round(temperature, 1),
        humidity_pct=np.round(humidity, 1),
        rainfall_mm=np.round(rainfall, 1),
        wind_kmh=np.round(wind, 1),
        pressure_hpa=np.round(pressure, 1),
        irradiance_wm2=np.round(irradiance, 0),
    )
