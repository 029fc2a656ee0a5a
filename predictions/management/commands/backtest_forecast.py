"""Rolling-origin day-ahead backtest of the demand forecaster on one meter."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.models import Meter
from predictions.forecasting.backtest import meter_backtest

KEYS = ("cv_rmse", "nmbe", "mape", "mase", "naive_cv_rmse")


def _date(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:6.2f}%"


class Command(BaseCommand):
    help = "Day-ahead rolling-origin backtest for one meter: Prophet + GBM vs Prophet alone vs seasonal naive."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--meter", required=True, help="Meter serial.")
        parser.add_argument("--train-until", required=True, help="First forecast origin (YYYY-MM-DD, UTC).")
        parser.add_argument("--until", required=True, help="End of the test window, exclusive (YYYY-MM-DD, UTC).")
        parser.add_argument("--horizon", type=int, default=24, help="Hours ahead from each midnight origin.")
        parser.add_argument("--refit-days", type=int, default=30, help="Refit the model every N days.")
        parser.add_argument("--site", default=None, help="Site code for weather and calendar (default: the meter's).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")

    def handle(self, *args: Any, **options: Any) -> None:
        train_until, until = _date(options["train_until"]), _date(options["until"])
        if until <= train_until:
            raise CommandError("--until must be after --train-until")
        if not 1 <= options["horizon"] <= 168:
            raise CommandError("--horizon must be between 1 and 168 hours")
        try:
            result, context = meter_backtest(
                serial=options["meter"],
                train_until=train_until,
                until=until,
                horizon=options["horizon"],
                refit_days=options["refit_days"],
                site_code=options["site"],
            )
        except Meter.DoesNotExist:
            raise CommandError(f"no meter with serial {options['meter']!r}") from None
        scores = {key: result.scores.get(key) for key in KEYS} | result.scores
        payload = {"status": result.status, "detail": result.detail, **context, **scores}
        if not options["json"] or options["verbosity"] > 1:
            self.stdout.write(f"meter {options['meter']}: {result.status} {result.detail}")
            self.stdout.write(f"{'':18s}{'combined':>10s}{'prophet':>10s}{'naive':>10s}")
            self.stdout.write(
                f"{'CV(RMSE)':18s}{_pct(scores['cv_rmse']):>10s}{_pct(scores.get('prophet_cv_rmse')):>10s}"
                f"{_pct(scores['naive_cv_rmse']):>10s}"
            )
            self.stdout.write(
                f"{'NMBE':18s}{_pct(scores['nmbe']):>10s}{_pct(scores.get('prophet_nmbe')):>10s}"
                f"{_pct(scores.get('naive_nmbe')):>10s}"
            )
            self.stdout.write(f"{'MAPE':18s}{_pct(scores['mape']):>10s}{_pct(scores.get('prophet_mape')):>10s}")
            mase = scores["mase"]
            self.stdout.write(f"{'MASE':18s}{'-' if mase is None else f'{mase:.3f}':>10s}")
            self.stdout.write(f"{result.scores.get('hours_scored', 0)} hours scored in {result.seconds:.1f} s")
        if options["json"]:
            self.stdout.write(json.dumps(payload, default=str))
