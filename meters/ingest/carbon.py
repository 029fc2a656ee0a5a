"""Grid carbon intensity for a site: a CSV of hourly (or finer) values, imported like weather."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from django.db import transaction

from meters.models import CarbonIntensity, Site

TIMESTAMP_ALIASES = ("timestamp", "datetime", "time", "from")
# Column name -> factor to kg CO2 per kWh; first match wins.
VALUE_ALIASES = {
    "kg_per_kwh": 1.0,
    "kgco2_per_kwh": 1.0,
    "g_per_kwh": 0.001,
    "gco2_per_kwh": 0.001,
    "carbon_intensity_gco2_kwh": 0.001,
    "intensity": 0.001,  # National Grid ESO's carbon intensity API writes gCO2/kWh
    "actual": 0.001,
}
MAX_KG_PER_KWH = 2.0


class CarbonSourceError(ValueError):
    """The carbon intensity file cannot be used at all."""


@dataclass
class CarbonResult:
    """Hours stored (new or changed) and rows rejected with their reasons."""

    stored: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {"accepted": self.stored, "rejected": self.rejected, "reasons": self.reasons[:20]}


def carbon_import_file(*, path: Path, site: Site, timezone_name: str | None = None) -> CarbonResult:
    """Upsert a site's hourly carbon intensity from a CSV (half-hourly values are averaged per hour).

    A bad row (no timestamp, not a number, outside 0 to 2 kg/kWh) is rejected with its row number and
    reason; the rest of the file is stored. One row per (site, hour), so re-imports are idempotent.
    """
    try:
        frame = pd.read_csv(path, dtype=str)
    except (OSError, ValueError) as error:
        raise CarbonSourceError(f"{path.name}: not a readable CSV ({error})") from error
    columns = {name.strip().lower(): name for name in frame.columns}
    stamp_column = next((columns[a] for a in TIMESTAMP_ALIASES if a in columns), None)
    value = next(((columns[a], factor) for a, factor in VALUE_ALIASES.items() if a in columns), None)
    if stamp_column is None or value is None:
        raise CarbonSourceError(
            f"{path.name}: need a timestamp column ({', '.join(TIMESTAMP_ALIASES)}) and an intensity column "
            f"({', '.join(VALUE_ALIASES)}); found {', '.join(frame.columns)}"
        )
    value_column, factor = value
    stamps = pd.to_datetime(frame[stamp_column], format="ISO8601", errors="coerce", utc=timezone_name is None)
    if timezone_name is not None and stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize(timezone_name, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    values = pd.to_numeric(frame[value_column], errors="coerce") * factor
    result = CarbonResult()
    good = pd.Series(True, index=frame.index)
    for index in range(len(frame)):
        problem = None
        if pd.isna(stamps.iloc[index]):
            problem = f"unparseable timestamp {frame[stamp_column].iloc[index]!r}"
        elif pd.isna(values.iloc[index]):
            problem = f"{value_column} missing or not a number"
        elif not 0 <= values.iloc[index] <= MAX_KG_PER_KWH:
            problem = f"{values.iloc[index]:g} kg/kWh outside 0 to {MAX_KG_PER_KWH:g}"
        if problem:
            good.iloc[index] = False
            result.rejected += 1
            result.reasons.append(f"row {index + 2}: {problem}")
    hourly = values[good].groupby(stamps[good].dt.floor("h")).mean()
    with transaction.atomic():
        CarbonIntensity.objects.bulk_create(
            [
                CarbonIntensity(site=site, timestamp=at.to_pydatetime(), kg_per_kwh=float(v))
                for at, v in zip(pd.DatetimeIndex(hourly.index), hourly.to_numpy(), strict=True)
            ],
            update_conflicts=True,
            unique_fields=["site", "timestamp"],
            update_fields=["kg_per_kwh"],
            batch_size=2000,
        )
    result.stored = len(hourly)
    return result
