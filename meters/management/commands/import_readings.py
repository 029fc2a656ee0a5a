"""python manage.py import_readings PATH [--create-meters --site CODE [--site-timezone TZ]] [--timezone TZ] [--json]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from customers.models import AuditEntry
from customers.services import audit_record
from meters.ingest import ColumnMap, FileFormatError
from meters.management.file_import import add_site_timezone_argument, site_created_note
from meters.services import readings_ingest_file, site_for_import


class Command(BaseCommand):
    help = (
        "Import readings from a CSV or Parquet file in long format meter,timestamp,kwh[,voltage,current,"
        "power_factor]. Idempotent: importing the same file twice changes nothing. Bad rows are quarantined."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--create-meters", action="store_true", help="Create unknown meters (needs --site).")
        parser.add_argument("--site", help="Site code for created meters (the site is created if missing).")
        parser.add_argument("--timezone", help="IANA zone of timestamps written without a UTC offset.")
        add_site_timezone_argument(parser)
        parser.add_argument("--json", action="store_true", help="Print one JSON summary line at the end.")
        parser.add_argument("--meter", help="Every row belongs to this meter serial (single-meter files).")
        parser.add_argument("--timestamp-column", default="timestamp", help="Column holding the timestamp.")
        parser.add_argument("--kwh-column", default="kwh", help="Column holding the energy in kWh.")
        parser.add_argument("--meter-column", default="meter", help="Column holding the meter serial.")
        parser.add_argument(
            "--wide",
            action="store_true",
            help="One column per meter (its header is the serial) beside the timestamp column, values in kWh; "
            "an empty cell is no reading (counted as skipped_missing).",
        )
        parser.add_argument(
            "--zero-is-missing",
            action="store_true",
            help="Treat an exact 0 kWh as a missing reading (counted as skipped_missing), unless the readings fall "
            "to it and rise from it within 12 hours (a net meter's solar midday: kept, counted as zeros_kept).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        site = None
        if options["create_meters"]:
            if not options["site"]:
                raise CommandError("--create-meters needs --site CODE")
            try:
                site, created = site_for_import(
                    code=options["site"],
                    site_timezone=options["site_timezone"],
                    timestamps_timezone=options["timezone"],
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
            if note := site_created_note(site, created=created):
                self.stderr.write(note)
        elif options["site_timezone"]:
            raise CommandError(
                "--site-timezone is the zone of a site --create-meters creates; add --create-meters --site CODE"
            )
        mapping = ColumnMap(
            columns={
                "timestamp": options["timestamp_column"],
                "kwh": options["kwh_column"],
                "meter": options["meter_column"],
            },
            meter=options["meter"],
            wide=options["wide"],
        )
        if options["wide"] and options["meter"]:
            raise CommandError("--wide takes each meter from its column's header; leave out --meter")
        quiet = options["json"] or options["verbosity"] == 0
        with tqdm(unit=" rows", unit_scale=True, disable=quiet, desc=path.name) as bar:
            try:
                result = readings_ingest_file(
                    path=path,
                    mapping=mapping,
                    timezone_name=options["timezone"],
                    create_meters_in=site,
                    zero_is_missing=options["zero_is_missing"],
                    progress=bar.update,
                )
            except FileFormatError as error:
                raise CommandError(str(error)) from error
            except DatabaseError as error:
                # One transaction per import: a dropped connection commits nothing of this file.
                raise CommandError(
                    f"{path.name}: the database connection failed after {bar.n} rows were read ({error}). "
                    "Nothing from this file was committed; run the same command again to import it."
                ) from error
        audit_record(
            actor="command import_readings",
            action=AuditEntry.Action.IMPORT,
            target=str(path),
            detail=result.summary(),
        )
        if options["json"]:
            self.stdout.write(json.dumps(result.summary()))
            return
        summary = result.summary()
        self.stdout.write(", ".join(f"{key} {value}" for key, value in summary.items()))
        for rejection in result.rejections[:20]:
            self.stdout.write(f"  row {rejection.row}: {rejection.reason}")
        if result.rejected > 20:
            self.stdout.write(f"  … and {result.rejected - 20} more in the quarantine (admin: Quarantined readings)")
        for gap in result.long_gaps[:10]:
            self.stdout.write(f"  gap left on meter {gap.meter_id}: {gap.start:%Y-%m-%d %H:%M} to {gap.end:%H:%M}")
