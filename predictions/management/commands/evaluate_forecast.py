"""Day-ahead accuracy of every hostel (hourly) and the site (daily) over the most recent weeks."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from predictions.forecasting.evaluation import forecasts_evaluate


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


class Command(BaseCommand):
    help = "Backtest hostel hourly and site daily day-ahead forecasts on the last weeks of data (targets: 15%/5%/5%)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--test-days", type=int, default=28)
        parser.add_argument("--refit-days", type=int, default=14)
        parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = forecasts_evaluate(test_days=options["test_days"], refit_days=options["refit_days"])
        if options["json"]:
            self.stdout.write(json.dumps(report, default=str))
            return
        if report["status"] != "ok":
            self.stdout.write(f"nothing to evaluate: {report['status']}")
            return
        self.stdout.write(f"test window {report['train_until']} to {report['until']}")
        for code, scores in report["hostels"].items():
            self.stdout.write(
                f"hostel {code:8s} CV(RMSE) {_pct(scores.get('cv_rmse'))}"
                f" (prophet {_pct(scores.get('prophet_cv_rmse'))}, naive {_pct(scores.get('naive_cv_rmse'))})"
                f"  NMBE {_pct(scores.get('nmbe'))}"
            )
        for code, scores in report["site"].items():
            self.stdout.write(
                f"site   {code:8s} daily MAPE {_pct(scores.get('daily_mape'))} over {scores.get('days')} days"
            )
        self.stdout.write(f"meets targets: {report['meets_targets']}")
