"""python manage.py archive_readings --before DATE --to DIR [--json]"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from customers.models import AuditEntry
from customers.services import audit_record
from meters.archive import readings_archive, readings_to_archive


def _date(text: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--before {text!r}: expected a date such as 2025-01-01") from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class Command(BaseCommand):
    help = (
        "Write raw readings older than --before (UTC midnight) to Parquet files under --to, one per month "
        "and site (zstd), and remove them from the database; rollups stay. Bring them back with import_readings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, help="Archive readings before this date (YYYY-MM-DD, UTC).")
        parser.add_argument("--to", required=True, type=Path, help="Directory for the Parquet files.")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary line at the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        before = _date(options["before"])
        to: Path = options["to"]
        if to.exists() and not to.is_dir():
            raise CommandError(f"--to {to}: not a directory")
        quiet = options["json"] or options["verbosity"] == 0
        total = None if quiet else readings_to_archive(before=before)
        with tqdm(total=total, unit=" rows", unit_scale=True, disable=quiet, desc="archive") as bar:
            result = readings_archive(before=before, to=to, progress=bar.update)
        audit_record(
            actor="command archive_readings",
            action=AuditEntry.Action.EXPORT,
            target=str(to),
            detail={"before": before.date().isoformat(), "archived": result.archived, "files": len(result.files)},
        )
        if options["json"]:
            self.stdout.write(json.dumps(result.summary()))
            return
        self.stdout.write(
            f"archived {result.archived} readings to {len(result.files)} files in {to} "
            f"({len(result.partitions_dropped)} monthly partitions dropped) in {result.seconds:.1f} s"
        )
        for name in result.files:
            self.stdout.write(f"  {name}")
