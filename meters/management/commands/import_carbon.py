"""python manage.py import_carbon PATH --site CODE [--timezone TZ] [--json]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.ingest.carbon import CarbonSourceError, carbon_import_file
from meters.models import Site


class Command(BaseCommand):
    help = (
        "Import a site's hourly grid carbon intensity from a CSV: timestamp,kg_per_kwh (or g_per_kwh, or "
        "National Grid's from,intensity in gCO2/kWh; half-hours are averaged). Bad rows are reported, not stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--site", required=True, help="Site code (must exist).")
        parser.add_argument("--timezone", help="IANA zone of timestamps without a UTC offset (default UTC).")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary line at the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise CommandError(f"unknown site code {options['site']!r}")
        try:
            result = carbon_import_file(path=path, site=site, timezone_name=options["timezone"])
        except CarbonSourceError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(result.summary()))
            return
        self.stdout.write(
            f"{result.stored} hours of carbon intensity stored, {result.rejected} rows rejected for site {site.code}"
        )
        for reason in result.reasons[:20]:
            self.stdout.write(f"  {reason}")
