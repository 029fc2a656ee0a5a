"""The shape every `import_*` command of a CSV file shares.

A subclass names its extra arguments, runs its import and says what one summary line reads. This base
checks the path, turns the source's own errors into a `CommandError`, and prints either one JSON line
(`--json`) or the summary with the first 20 rejected rows and their reasons.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser


class ImportResult(Protocol):
    reasons: list[str]

    def summary(self) -> dict[str, Any]: ...


class FileImportCommand(BaseCommand):
    #: Errors of the source as a whole (a file without the columns, an unknown zone): reported, not raised.
    source_errors: tuple[type[Exception], ...] = (ValueError,)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        self.add_source_arguments(parser)
        parser.add_argument("--json", action="store_true", help="Print one JSON summary line at the end.")

    def add_source_arguments(self, parser: CommandParser) -> None:
        """Arguments between PATH and --json."""

    def run_import(self, path: Path, options: dict[str, Any]) -> Any:
        raise NotImplementedError

    def describe(self, result: Any, options: dict[str, Any]) -> str:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result: ImportResult = self.run_import(path, options)
        except self.source_errors as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(result.summary()))
            return
        self.stdout.write(self.describe(result, options))
        for reason in result.reasons[:20]:
            self.stdout.write(f"  {reason}")


def add_site_arguments(parser: CommandParser, *, site_help: str) -> None:
    """--site CODE and --timezone TZ, as the weather and carbon imports take them."""
    parser.add_argument("--site", required=True, help=site_help)
    parser.add_argument("--timezone", help="IANA zone of timestamps without a UTC offset (default UTC).")


def add_site_timezone_argument(parser: CommandParser) -> None:
    """--site-timezone TZ: the local time of a site the import creates, when the timestamps are in another zone."""
    parser.add_argument(
        "--site-timezone",
        help="IANA zone of the site's local days when --site creates it (default: --timezone, else UTC). "
        "Give it for files kept in UTC, e.g. --timezone UTC --site-timezone Europe/London.",
    )


def site_created_note(site: Any, *, created: bool) -> str | None:
    """A warning for a site just created on UTC local time, which is rarely where a building is."""
    if created and site.timezone == "UTC":
        return (
            f"note: site {site.code!r} was created with local time UTC (its days run from UTC midnight); "
            "if the buildings are elsewhere, set the site's time zone in the admin before detection runs, "
            "or import with --site-timezone"
        )
    return None
