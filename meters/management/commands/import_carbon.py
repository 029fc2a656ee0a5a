"""python manage.py import_carbon PATH --site CODE [--timezone TZ] [--json]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from meters.ingest.carbon import CarbonResult, CarbonSourceError, carbon_import_file
from meters.management.file_import import FileImportCommand, add_site_arguments
from meters.models import Site


class Command(FileImportCommand):
    help = (
        "Import a site's hourly grid carbon intensity from a CSV: timestamp,kg_per_kwh (or g_per_kwh, or "
        "National Grid's from,intensity in gCO2/kWh; half-hours are averaged). Bad rows are reported, not stored."
    )
    source_errors = (CarbonSourceError,)

    def add_source_arguments(self, parser: CommandParser) -> None:
        add_site_arguments(parser, site_help="Site code (must exist).")

    def run_import(self, path: Path, options: dict[str, Any]) -> CarbonResult:
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise CommandError(f"unknown site code {options['site']!r}")
        return carbon_import_file(path=path, site=site, timezone_name=options["timezone"])

    def describe(self, result: CarbonResult, options: dict[str, Any]) -> str:
        return (
            f"{result.stored} hours of carbon intensity stored, {result.rejected} rows rejected "
            f"for site {options['site']}"
        )
