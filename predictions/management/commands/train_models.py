"""Train the forecasting, segmentation and failure-risk models now, printing the time per family."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from predictions.services import FAMILIES, models_train


class Command(BaseCommand):
    help = "Train forecasters (every hostel, transformer, site), segmentation and failure risk; print seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--family", action="append", choices=FAMILIES, help="Repeatable; default: all three.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")

    def handle(self, *args: Any, **options: Any) -> None:
        families = tuple(options["family"] or FAMILIES)
        started = time.perf_counter()
        report = models_train(families=families)
        report["total_seconds"] = round(time.perf_counter() - started, 2)
        if options["json"]:
            self.stdout.write(json.dumps(report, default=str))
            return
        for family in families:
            entry = report[family]
            self.stdout.write(f"{family:13s} {entry['seconds']:7.2f} s  " + _describe(family, entry))
        self.stdout.write(f"{'total':13s} {report['total_seconds']:7.2f} s")


def _describe(family: str, entry: dict[str, Any]) -> str:
    if family == "forecast":
        return f"{entry['trained']} trained, failed: {entry['failed'] or 'none'}, unfit: {entry['unfit'] or 'none'}"
    metrics = entry.get("metrics") or {}
    if family == "segmentation":
        if entry["status"] != "current":
            return f"{entry['status']}: {entry['note']}"
        best = max(metrics["silhouette_by_k"].items(), key=lambda kv: kv[1])
        ari = f", ARI vs simulated habits {metrics['ari_vs_truth']}" if "ari_vs_truth" in metrics else ""
        return f"k={metrics['k']} (silhouette {best[1]:.3f}){ari}, silhouette by k {metrics['silhouette_by_k']}"
    if entry["status"] != "current":
        return f"{entry['status']}: {entry['note']}"
    return (
        f"ROC AUC {metrics.get('roc_auc')}, Brier {metrics.get('brier')}, "
        f"precision@10% {metrics.get('precision_at_10pct')} "
        f"({metrics.get('test_positives')} positive snapshots in test); "
        f"rolling-origin ROC AUC {metrics.get('rolling_roc_auc')}, precision@10% "
        f"{metrics.get('rolling_precision_at_10pct')} ({metrics.get('rolling_positives')} positive snapshots scored); "
        f"without condition readings {metrics.get('rolling_roc_auc_without_condition', 'n/a')} "
        f"(condition on {metrics.get('condition_coverage', 0):.0%} of snapshots)"
    )
