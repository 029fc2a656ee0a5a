"""python manage.py import_occupancy PATH [--json]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meters.ingest.occupancy import OccupancyResult
from meters.management.file_import import FileImportCommand
from meters.services import occupancy_import_file


class Command(FileImportCommand):
    help = (
        "Import a room roster CSV: room,from,to,occupants (room as HOSTELCODE-NUMBER; dates ISO 8601, in the "
        "site's time zone unless they carry an offset; 'to' may be empty). Occupants are checked against capacity."
    )

    def run_import(self, path: Path, options: dict[str, Any]) -> OccupancyResult:
        return occupancy_import_file(path=path)

    def describe(self, result: OccupancyResult, options: dict[str, Any]) -> str:
        return f"{result.stored} occupancy periods stored, {result.rejected} rejected"
