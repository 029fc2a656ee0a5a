"""python manage.py import_weather PATH --site CODE [--timezone TZ] [--json]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from meters.ingest.weather import WeatherResult, WeatherSourceError
from meters.management.file_import import FileImportCommand, add_site_arguments
from meters.services import site_get_or_create, weather_import_file


class Command(FileImportCommand):
    help = (
        "Import hourly weather for a site from a CSV: timestamp,temperature_c[,humidity,rainfall_mm,wind_kmh,"
        "pressure_hpa] (Cambridge/Met Office column names are understood too). The site is created if missing."
    )
    source_errors = (WeatherSourceError,)

    def add_source_arguments(self, parser: CommandParser) -> None:
        add_site_arguments(parser, site_help="Site code (created if missing).")

    def run_import(self, path: Path, options: dict[str, Any]) -> WeatherResult:
        zone = options["timezone"] or "UTC"
        site = site_get_or_create(code=options["site"], timezone_name=zone)
        return weather_import_file(path=path, site=site, timezone_name=zone)

    def describe(self, result: WeatherResult, options: dict[str, Any]) -> str:
        return f"{result.stored} weather rows stored, {result.rejected} rejected for site {options['site']}"
