"""Weather for a site: a CSV of hourly observations, or the Open-Meteo archive API."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import transaction

from meters.models import Site, Weather

# Column names we accept for each field, first match wins (ours, then the Cambridge/Met Office ones).
WEATHER_ALIASES = {
    "timestamp": ("timestamp", "datetime", "time"),
    "temperature_c": ("temperature_c", "air_temperature [degC]", "temperature_2m"),
    "humidity_pct": ("humidity", "humidity_pct", "rltv_hum [%]", "relative_humidity_2m"),
    "rainfall_mm": ("rainfall_mm", "precipitation"),
    "wind_kmh": ("wind_kmh", "wind_speed_10m"),
    "pressure_hpa": ("pressure_hpa", "surface_pressure"),
    "irradiance_wm2": ("irradiance_wm2", "glbl_irad_amt [W/m2]", "shortwave_radiation"),
}
LIMITS = {
    "temperature_c": (-90.0, 60.0),
    "humidity_pct": (0.0, 100.0),
    "rainfall_mm": (0.0, 500.0),
    "wind_kmh": (0.0, 500.0),
    "pressure_hpa": (800.0, 1100.0),
    "irradiance_wm2": (0.0, 1500.0),
}


class WeatherSourceError(ValueError):
    """The weather file or API answer cannot be used."""


@dataclass
class WeatherResult:
    """Rows stored (new or changed) and rows rejected with their reasons."""

    stored: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {"accepted": self.stored, "rejected": self.rejected, "reasons": self.reasons[:20]}


def _frame_to_rows(frame: pd.DataFrame, *, timezone_name: str | None, first_row: int) -> Iterator[tuple[int, dict]]:
    columns = {}
    for name, aliases in WEATHER_ALIASES.items():
        found = next((alias for alias in aliases if alias in frame.columns), None)
        if found is not None:
            columns[name] = found
    if "timestamp" not in columns or "temperature_c" not in columns:
        raise WeatherSourceError(f"need timestamp and temperature_c columns; found {', '.join(frame.columns)}")
    stamps = pd.to_datetime(frame[columns["timestamp"]], format="ISO8601", errors="coerce", utc=timezone_name is None)
    if timezone_name is not None and stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize(timezone_name, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    values = {
        name: pd.to_numeric(frame[column], errors="coerce") for name, column in columns.items() if name != "timestamp"
    }
    for index in range(len(frame)):
        row: dict[str, object] = {"timestamp": stamps.iloc[index]}
        for name, series in values.items():
            value = series.iloc[index]
            row[name] = None if pd.isna(value) else float(value)
        yield first_row + index, row


def _store(rows: Iterator[tuple[int, dict]], site: Site, source: str) -> WeatherResult:
    result = WeatherResult()
    batch: list[Weather] = []
    for number, row in rows:
        problem = None
        if pd.isna(row["timestamp"]):
            problem = "unparseable timestamp"
        elif row.get("temperature_c") is None:
            problem = "temperature missing or not a number"
        else:
            for name, (low, high) in LIMITS.items():
                value = row.get(name)
                if value is not None and not low <= value <= high:
                    problem = f"{name} {value} outside {low:g} to {high:g}"
                    break
        if problem:
            result.rejected += 1
            result.reasons.append(f"row {number}: {problem}")
            continue
        stamp = row.pop("timestamp").to_pydatetime()
        batch.append(Weather(site=site, timestamp=stamp, source=source, **row))
    fields = [name for name in WEATHER_ALIASES if name != "timestamp"] + ["source"]
    with transaction.atomic():
        Weather.objects.bulk_create(
            batch, update_conflicts=True, unique_fields=["site", "timestamp"], update_fields=fields, batch_size=2000
        )
    result.stored = len(batch)
    return result


def weather_import_file(*, path: Path, site: Site, timezone_name: str | None = None) -> WeatherResult:
    """Upsert hourly weather of a site from a CSV; one row per (site, hour), so re-imports are idempotent."""
    try:
        frame = pd.read_csv(path, dtype=str)
    except (OSError, ValueError) as error:
        raise WeatherSourceError(f"{path.name}: not a readable CSV ({error})") from error
    return _store(_frame_to_rows(frame, timezone_name=timezone_name, first_row=2), site, Weather.Source.OBSERVED)


def weather_fetch_open_meteo(*, site: Site, start: dt.date, end: dt.date, timeout: float = 30.0) -> WeatherResult:
    """Fetch hourly observations for the site from the Open-Meteo archive API (settings.OPEN_METEO_BASE_URL)."""
    query = urllib.parse.urlencode(
        {
            "latitude": site.latitude,
            "longitude": site.longitude,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "hourly": "temperature_2m,relative_humidity_2m,precipitation,wind_speed_10m,surface_pressure,"
            "shortwave_radiation",
            "timezone": "UTC",
            "wind_speed_unit": "kmh",
        }
    )
    url = f"{settings.OPEN_METEO_BASE_URL.rstrip('/')}?{query}"
    if not url.startswith(("http://", "https://")):
        raise WeatherSourceError("OPEN_METEO_BASE_URL must be an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            payload = json.load(response)
    except (OSError, ValueError) as error:
        raise WeatherSourceError(f"Open-Meteo request failed: {error}") from error
    hourly = payload.get("hourly")
    if not isinstance(hourly, dict) or "time" not in hourly:
        raise WeatherSourceError(f"Open-Meteo answered without hourly data: {str(payload)[:200]}")
    frame = pd.DataFrame(hourly)
    frame["time"] = frame["time"].astype(str) + "+00:00"
    return _store(_frame_to_rows(frame, timezone_name=None, first_row=0), site, Weather.Source.OBSERVED)
