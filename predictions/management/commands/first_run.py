"""Queue the scan of stored history and the first training of forecasts, segments and risk (idempotent).

`python -m config.serve` (what `make run` runs) does this itself; in a deployment whose web process is
not started by it, run this once the history is stored. Progress is on the system page.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from predictions.services import first_run_queue


class Command(BaseCommand):
    help = "Queue the history scan and the first model training (once; again only when interrupted)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(first_run_queue()))
