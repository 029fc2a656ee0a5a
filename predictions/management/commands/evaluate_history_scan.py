"""python manage.py evaluate_history_scan [--no-eras] [--days N]: the first run's history scan, scored."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from predictions.detection.evaluate_history import evaluate_history_scan


class Command(BaseCommand):
    help = (
        "Score the first run's scan of stored history against the simulator's incidents (run simulate_campus and "
        "train_baseline first). Prints one JSON object."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-eras", action="store_true", help="Judge all history with the current baseline (as before eras)."
        )
        parser.add_argument("--days", type=int, help="Days of history scanned (default FIRST_RUN_HISTORY_DAYS).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = evaluate_history_scan(eras=not options["no_eras"], days=options["days"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(result, default=str))
