"""Score the anomaly detector on incidents we know: simulator ground truth, or one imported meter with labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from predictions.detection.evaluate_run import evaluate_meter, evaluate_simulated

HEADLINE = [
    ("precision", "precision"),
    ("recall", "recall"),
    ("f1", "F1"),
    ("false_alerts_per_meter_month", "false alerts per meter-month"),
    ("median_minutes_to_detect", "median minutes to detect"),
]


class Command(BaseCommand):
    help = "Evaluate anomaly detection against ground truth (--simulated) or a labelled meter (--meter, --labels)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--simulated", action="store_true", help="Score against meters.Incident ground truth.")
        parser.add_argument("--meter", help="Serial of an imported meter.")
        parser.add_argument("--labels", type=Path, help="CSV: date,is_anomaly (days) or start,end (incidents).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")
        parser.add_argument("--ablation", action="store_true", help="Also score each detector combination.")
        parser.add_argument("--train-fraction", type=float, default=0.5, help="Share of history only trained on.")
        parser.add_argument("--retrain-days", type=int, default=7, help="Walk forward: retrain every N days.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["simulated"]:
                result = evaluate_simulated(
                    train_fraction=options["train_fraction"],
                    retrain_days=options["retrain_days"],
                    ablation=options["ablation"],
                )
            elif options["meter"] and options["labels"]:
                if not options["labels"].exists():
                    raise CommandError(f"labels file {options['labels']} not found")
                result = evaluate_meter(serial=options["meter"], labels=options["labels"])
            else:
                raise CommandError("use --simulated, or --meter SERIAL --labels PATH")
        except ValueError as error:
            raise CommandError(str(error)) from None
        self._report(result)
        if options["json"]:
            self.stdout.write(json.dumps(result, default=str))

    def _report(self, result: dict[str, Any]) -> None:
        self.stdout.write(f"{'':32}{'detector':>12}{'plain IForest':>16}")
        for key, label in HEADLINE:
            ours, theirs = result.get(key), result.get(f"baseline_{key}")
            self.stdout.write(f"{label:32}{_fmt(ours):>12}{_fmt(theirs):>16}")
        for key in ("day_precision", "day_recall", "day_f1"):
            if key in result:
                self.stdout.write(
                    f"{key.replace('_', ' '):32}{_fmt(result[key]):>12}{_fmt(result.get('baseline_' + key)):>16}"
                )
        self.stdout.write(
            f"incidents {result['incidents']}, found {result['found']}, "
            f"true alarms {result['true_alarms']}, false alarms {result['false_alarms']}"
        )
        if result.get("label_days_outside_readings") or result.get("label_incidents_outside_readings"):
            self.stdout.write(
                f"left out, before the first or after the last reading: {result['label_days_outside_readings']} "
                f"labelled days ({result['label_positive_days_outside_readings']} positive), "
                f"{result['label_incidents_outside_readings']} labelled incidents"
            )
        if result.get("recall_by_kind"):
            self.stdout.write(
                "recall by kind: " + ", ".join(f"{k} {v:.2f}" for k, v in result["recall_by_kind"].items())
            )
        for name, scores in result.get("ablation", {}).items():
            self.stdout.write(f"  {name:50} P {scores['precision']:.3f} R {scores['recall']:.3f} F1 {scores['f1']:.3f}")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
