"""python manage.py import_occupancy PATH [--json]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.services import occupancy_import_file


class Command(BaseCommand):
    help = (
        "Import a room roster CSV: room,from,to,occupants (room as HOSTELCODE-NUMBER; dates ISO 8601, in the "
        "site's time zone unless they carry an offset; 'to' may be empty). Occupants are checked against capacity."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--json", action="store_true", help="Print one JSON summary line at the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = occupancy_import_file(path=path)
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(result.summary()))
            return
        self.stdout.write(f"{result.stored} occupancy periods stored, {result.rejected} rejected")
        for reason in result.reasons[:20]:
            self.stdout.write(f"  {reason}")
