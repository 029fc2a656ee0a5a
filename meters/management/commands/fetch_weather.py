"""python manage.py fetch_weather --site CODE --start YYYY-MM-DD --end YYYY-MM-DD [--json]"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.ingest.weather import WeatherSourceError
from meters.models import Site
from meters.services import weather_fetch_open_meteo


class Command(BaseCommand):
    help = "Fetch hourly observed weather for a site from the Open-Meteo archive API (settings.OPEN_METEO_BASE_URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True, help="Site code; its latitude and longitude are used.")
        parser.add_argument("--start", required=True, type=dt.date.fromisoformat, help="First day, YYYY-MM-DD.")
        parser.add_argument("--end", required=True, type=dt.date.fromisoformat, help="Last day, YYYY-MM-DD.")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary line at the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise CommandError(f"no site with code {options['site']!r}")
        try:
            result = weather_fetch_open_meteo(site=site, start=options["start"], end=options["end"])
        except WeatherSourceError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(result.summary()))
        else:
            self.stdout.write(f"{result.stored} weather rows stored, {result.rejected} rejected for site {site.code}")
