"""The 15-minute grid of a simulation, in UTC, with the local-time features the physics needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

STEP_SECONDS = 900
STEPS_PER_HOUR = 4
EPOCH_2000 = 946_684_800  # 2000-01-01 UTC in Unix seconds, PostgreSQL's binary epoch


@dataclass(frozen=True)
class Timeline:
    """Steps of 15 minutes from a local midnight; arrays are indexed by step."""

    timezone: str
    start_date: dt.date
    start: dt.datetime  # UTC
    steps: int
    epoch: np.ndarray  # Unix seconds of each step (int64)
    day: np.ndarray  # local day index from start_date (int32)
    slot: np.ndarray  # local quarter-hour of the day 0..95 (int16)
    hour: np.ndarray  # local hour as a float (float32)
    weekday: np.ndarray  # local weekday, Monday 0 (int8)
    days: int

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=STEP_SECONDS * self.steps)

    @property
    def dates(self) -> list[dt.date]:
        return [self.start_date + dt.timedelta(days=i) for i in range(self.days)]

    def at(self, step: int) -> dt.datetime:
        return self.start + dt.timedelta(seconds=STEP_SECONDS * step)

    def step_of(self, moment: dt.datetime) -> int:
        return int((moment - self.start).total_seconds() // STEP_SECONDS)

    def local_midnight_step(self, day: int) -> int:
        """First step of a local day (DST-safe)."""
        tz = ZoneInfo(self.timezone)
        midnight = dt.datetime.combine(self.start_date + dt.timedelta(days=day), dt.time(), tzinfo=tz)
        return self.step_of(midnight.astimezone(dt.UTC))


def timeline_build(*, timezone: str, start_date: dt.date, end: dt.datetime | None, days: int) -> Timeline:
    """From local midnight of start_date, for `days` local days, or until `end` (UTC) when given."""
    tz = ZoneInfo(timezone)
    start = dt.datetime.combine(start_date, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    if end is None:
        end = dt.datetime.combine(start_date + dt.timedelta(days=days), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    steps = int((end - start).total_seconds() // STEP_SECONDS)
    epoch = int(start.timestamp()) + STEP_SECONDS * np.arange(steps, dtype=np.int64)
    utc = pd.to_datetime(epoch, unit="s", utc=True)
    local = utc.tz_convert(timezone).tz_localize(None)
    minutes = ((local - pd.Timestamp(start_date)) // pd.Timedelta(minutes=1)).to_numpy().astype(np.int64)
    day = (minutes // 1440).astype(np.int32)
    minute_of_day = minutes % 1440
    weekday = ((start_date.weekday() + day) % 7).astype(np.int8)
    return Timeline(
        timezone=timezone,
        start_date=start_date,
        start=start,
        steps=steps,
        epoch=epoch,
        day=day,
        slot=(minute_of_day // 15).astype(np.int16),
        hour=(minute_of_day / 60.0).astype(np.float32),
        weekday=weekday,
        days=int(day[-1]) + 1 if steps else 0,
    )


def dark_mask(timeline: Timeline, *, latitude: float, longitude: float) -> np.ndarray:
    """True where the sun is below the horizon (a cosine sunrise model is plenty for lighting)."""
    seconds = timeline.epoch.astype(np.float64)
    doy = np.asarray(pd.to_datetime(timeline.epoch, unit="s").day_of_year, dtype=np.float64)
    declination = np.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    phi = np.radians(latitude)
    cos_w0 = np.clip(-np.tan(phi) * np.tan(declination), -1.0, 1.0)
    half_day_hours = np.degrees(np.arccos(cos_w0)) / 15.0
    utc_hours = (seconds % 86400.0) / 3600.0
    solar_noon_utc = 12.0 - longitude / 15.0
    return np.abs(utc_hours - solar_noon_utc) > half_day_hours
