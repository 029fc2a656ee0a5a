"""python manage.py measure_savings --meter SERIAL | --hostel ID | --site CODE --intervention YYYY-MM-DD
[--until YYYY-MM-DD] [--json]"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.savings.model import SavingsError, savings_measure
from analytics.savings.services import savings_inputs_for


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Measure the energy an intervention saved: fit a daily baseline (weather, calendar, occupancy) on the "
        "365 days before it (with --half-life, recent weeks weighing most), and compare with what was used "
        "after it. Prints the savings, their 90 % interval (ASHRAE Guideline 14's term widened by the model's "
        "error on held-out days before the change) and the baseline's CV(RMSE), NMBE and held-out error; a "
        "baseline outside Guideline 14's limits gets no interval, and says why; with --json the last line is "
        "JSON (baseline_fit, baseline_problems)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subject = parser.add_mutually_exclusive_group(required=True)
        subject.add_argument("--meter", help="Meter serial.")
        subject.add_argument("--hostel", type=int, help="Hostel id (its main meters, else its rooms).")
        subject.add_argument("--site", help="Site code (all its hostels).")
        parser.add_argument("--intervention", required=True, help="First local day with the change (YYYY-MM-DD).")
        parser.add_argument("--until", help="Last local day to measure, inclusive (default: the last day with data).")
        parser.add_argument("--json", action="store_true", help="End with one JSON line.")
        parser.add_argument(
            "--comparison",
            action="store_true",
            help="Add the site's best untouched hostel to the baseline as a comparison building, when it predicts "
            "the 8 weeks before the change better (default: the building alone; docs/savings.md).",
        )
        parser.add_argument(
            "--half-life",
            type=float,
            help="Weigh recent baseline days most: a day's weight halves every DAYS back (docs/savings.md; "
            "default: every day weighs the same).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            intervention = _date(options["intervention"])
            until = _date(options["until"]) if options["until"] else None
        except ValueError as error:
            raise CommandError(f"--intervention/--until: {error}") from error
        if not options["json"]:
            self.stderr.write("reading the series…")
        try:
            inputs = savings_inputs_for(
                meter=options["meter"],
                hostel=options["hostel"],
                site=options["site"],
                intervention=intervention,
                until=until,
                comparison=options["comparison"],
            )
            if not options["json"]:
                self.stderr.write(f"fitting the baseline of {inputs.label}…")
            half_life = options["half_life"]
            if half_life is not None and half_life <= 0:
                raise CommandError(f"--half-life: {half_life:g} is not a positive number of days")
            result = savings_measure(inputs, intervention=intervention, until=until, half_life_days=half_life)
        except SavingsError as error:
            raise CommandError(str(error)) from error
        summary = result.summary()
        if options["json"]:
            self.stdout.write(
                json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in summary.items()})
            )
            return
        self.stdout.write(
            f"{result.label}: from {result.intervention} to {result.until} ({result.reporting_days} days with data)\n"
            f"  baseline {result.baseline_kwh:,.1f} kWh, actual {result.actual_kwh:,.1f} kWh\n"
            f"  saved {result.savings_kwh:,.1f} kWh = {100 * result.savings_fraction:.1f} % of the baseline "
            + (
                f"(90 % interval {100 * result.fraction_low:.1f} to {100 * result.fraction_high:.1f} %)\n"
                if result.baseline_fit
                else "(no interval: the baseline does not meet ASHRAE Guideline 14: "
                + "; ".join(result.baseline_problems)
                + ". The building's use is not explained well enough before the change for this figure "
                "to count as a measurement)\n"
            )
            + f"  baseline: {result.baseline_days} days from {result.baseline_start}"
            + (f", a day's weight halving every {result.half_life_days:g} days back" if result.half_life_days else "")
            + (f", with {result.comparison} as comparison building" if result.comparison else "")
            + f", CV(RMSE) "
            f"{100 * result.baseline_cv_rmse:.1f} %, NMBE {100 * result.baseline_nmbe:.3f} %, terms "
            f"{', '.join(result.terms)}\n"
            + (
                f"  held-out check: the same model measured {100 * (result.baseline_holdout_error or 0):+.1f} % "
                f"(RMS {100 * (result.baseline_holdout_rms or 0):.1f} %) over {len(result.holdout_errors)} earlier "
                f"period(s) of {result.holdout_days} days where nothing was done; interval half-width "
                f"{100 * result.guideline14_half_width:.1f} points from Guideline 14 alone"
                if result.holdout_errors
                else "  held-out check: too little history before the baseline; the interval is Guideline 14's alone"
            )
        )
