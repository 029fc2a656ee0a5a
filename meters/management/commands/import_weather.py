"""python manage.py import_weather PATH --site CODE [--timezone TZ] [--json]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.ingest.weather import WeatherSourceError
from meters.services import site_get_or_create, weather_import_file


class Command(BaseCommand):
    help = (
        "Import hourly weather for a site from a CSV: timestamp,temperature_c[,humidity,rainfall_mm,wind_kmh,"
        "pressure_hpa] (Cambridge/Met Office column names are understood too). The site is created if missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--site", required=True, help="Site code (created if missing).")
        parser.add_argument("--timezone", help="IANA zone of timestamps without a UTC offset (default UTC).")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary line at the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        site = site_get_or_create(code=options["site"], timezone_name=options["timezone"] or "UTC")
        try:
            result = weather_import_file(path=path, site=site, timezone_name=options["timezone"] or "UTC")
        except WeatherSourceError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(result.summary()))
            return
        self.stdout.write(f"{result.stored} weather rows stored, {result.rejected} rejected for site {site.code}")
        for reason in result.reasons[:20]:
            self.stdout.write(f"  {reason}")
