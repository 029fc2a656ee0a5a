"""python manage.py import_weather PATH --site CODE [--timezone TZ] [--site-timezone TZ] [--json]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from meters.ingest.weather import WeatherResult, WeatherSourceError
from meters.management.file_import import (
    FileImportCommand,
    add_site_arguments,
    add_site_timezone_argument,
    site_created_note,
)
from meters.services import site_for_import, weather_import_file


class Command(FileImportCommand):
    help = (
        "Import hourly weather for a site from a CSV: timestamp,temperature_c[,humidity,rainfall_mm,wind_kmh,"
        "pressure_hpa] (Cambridge/Met Office column names are understood too). The site is created if missing."
    )
    source_errors = (WeatherSourceError,)

    def add_source_arguments(self, parser: CommandParser) -> None:
        add_site_arguments(parser, site_help="Site code (created if missing).")
        add_site_timezone_argument(parser)

    def run_import(self, path: Path, options: dict[str, Any]) -> WeatherResult:
        try:
            site, created = site_for_import(
                code=options["site"], site_timezone=options["site_timezone"], timestamps_timezone=options["timezone"]
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if note := site_created_note(site, created=created):
            self.stderr.write(note)
        return weather_import_file(path=path, site=site, timezone_name=options["timezone"] or "UTC")

    def describe(self, result: WeatherResult, options: dict[str, Any]) -> str:
        return f"{result.stored} weather rows stored, {result.rejected} rejected for site {options['site']}"
