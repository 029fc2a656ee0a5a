"""Train the anomaly baseline now (or only when there is no usable current one), printing what it did.

`make run` calls it with --if-missing after seeding, so the first reading a gateway posts is detected
against a ready model instead of waiting for the model to be trained inside that detection task
(seen: 25 s on the demo campus, on a 2-core machine, before the first live alert could be raised).
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from predictions.detection.baselines import baseline_current, baseline_train
from predictions.models import ModelVersion


class Command(BaseCommand):
    help = "Train the anomaly baseline on every meter's history; --if-missing keeps a usable current one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-missing", action="store_true", help="Do nothing when a usable baseline is current.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        existing = baseline_current(retrain=False) if options["if_missing"] else None
        if existing is not None:
            version = existing[1]
            trained = False
        else:
            self.stdout.write("Training the anomaly baseline on the meters' history ...")
            version = baseline_train()
            trained = True
        report = {
            "trained": trained,
            "version": version.pk,
            "status": version.status,
            "note": version.note,
            "seconds": round(time.perf_counter() - started, 2),
        }
        if options["json"]:
            self.stdout.write(json.dumps(report))
        elif trained:
            self.stdout.write(
                f"Anomaly baseline v{version.pk}: {version.status} in {report['seconds']} s {version.note}"
            )
        else:
            self.stdout.write(f"Anomaly baseline v{version.pk} is current; not retrained.")
        if version.status == ModelVersion.Status.FAILED:
            # Not fatal: the server still starts, and the first detection or the weekly retraining tries again.
            self.stderr.write(f"Anomaly baseline training failed: {version.note}")
