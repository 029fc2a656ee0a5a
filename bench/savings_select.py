"""Baseline choices per case, compared on the Cambridge known cuts (docs/savings.md, issue 27):

    DEBUG=1 .venv/bin/python bench/savings_select.py --dates 2019-03-04 2019-06-03 2019-09-02 2019-11-25

(a) the half-life chosen per case by the error on the baseline's own last weeks (fit before them,
predict them: never looks after the intervention); (b) a comparison building (another untouched
meter of the site) as a regressor, chosen the same way; (c) a shorter baseline. Estimates only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

import numpy as np
import pandas as pd
from savings_cambridge import CUTS, DATA, REPORT_DAYS, cut, load_building, load_site
from tqdm import tqdm

from analytics.savings.comparison import lastweeks_error as comparison_lastweeks_error
from analytics.savings.inputs import savings_inputs_for_meter
from analytics.savings.model import (
    SavingsError,
    SavingsInputs,
    daily_frame,
    savings_measure,
)


def _with(inputs: SavingsInputs, **changes: Any) -> SavingsInputs:
    fields = dict(inputs.__dict__)
    fields.update(changes)
    return SavingsInputs(**fields)


def lastweeks_error(inputs: SavingsInputs, *, at: dt.date, weeks: int, **options: Any) -> float | None:
    """The product's selection score (`analytics.savings.comparison.lastweeks_error`); None where a fit fails."""
    try:
        return comparison_lastweeks_error(inputs, at=at, weeks=weeks, **options)
    except Exception:
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dates", nargs="*", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--buildings", nargs="*")
    parser.add_argument("--out", default="")
    parser.add_argument("--slim", action="store_true", help="Only the equal-weight and comparison estimates.")
    options = parser.parse_args()
    site = load_site()
    codes = sorted(p.name.split("_")[-1] for p in (DATA / "electricity").iterdir())
    serials = [load_building(site, code) for code in codes]  # every building is a comparison candidate
    allinputs = {serial: savings_inputs_for_meter(serial=serial) for serial in serials}
    rows = []
    for serial in tqdm([f"CAM-{code}" for code in options.buildings or codes], file=sys.stderr):
        inputs = allinputs[serial]
        last = pd.DatetimeIndex(inputs.load.dropna().index).tz_convert(inputs.timezone).max().date()
        for at in options.dates:
            until = min(at + dt.timedelta(days=REPORT_DAYS - 1), last)
            if until < at + dt.timedelta(days=27):
                continue
            # Per-case choices, made on the uncut series before `at` only (the cut starts at `at`).
            scores = {}
            for weeks in (8,) if options.slim else (4, 8, 13):
                scores[weeks] = {
                    hl: lastweeks_error(inputs, at=at, weeks=weeks, half_life_days=hl)
                    for hl in ((None,) if options.slim else (None, 30.0, 60.0))
                }
            target = daily_frame(inputs)
            tdates = np.asarray(pd.DatetimeIndex(target.index).date)
            in_base = (tdates >= at - dt.timedelta(days=365)) & (tdates < at)
            by_error: dict[str, float] = {}
            by_corr: dict[str, float] = {}
            for other in serials:
                if other == serial:
                    continue
                with_c = _with(inputs, comparison=allinputs[other].load)
                cdays = daily_frame(with_c)
                cdates = np.asarray(pd.DatetimeIndex(cdays.index).date)
                if cdays["comparison"][(cdates >= at) & (cdates <= until)].isna().mean() > 0.1:
                    continue
                both = cdays[in_base][["kwh", "comparison"]].dropna()
                if len(both) < 180:
                    continue
                if not options.slim:
                    by_corr[other] = float(both["kwh"].corr(both["comparison"]))
                err = lastweeks_error(with_c, at=at, weeks=8, comparison=True)
                if err is not None:
                    by_error[other] = err
            chosen = {
                "comp_err": min(by_error, key=by_error.__getitem__) if by_error else None,
                "comp_corr": max(by_corr, key=by_corr.__getitem__) if by_corr else None,
            }
            for kind in CUTS:
                changed, truth = cut(inputs, kind=kind, at=at, until=until)
                try:
                    ref = savings_measure(changed, intervention=at, until=until, holdout=False, half_life_days=None)
                except SavingsError:
                    break
                row: dict[str, Any] = {
                    "meter": serial,
                    "at": at.isoformat(),
                    "cut": kind,
                    "truth": truth,
                    "cv": ref.baseline_cv_rmse,
                    "equal": ref.savings_fraction,
                    "scores": {str(w): {str(h): v for h, v in s.items()} for w, s in scores.items()},
                }
                for hl in () if options.slim else (30.0, 60.0):
                    row[f"hl{int(hl)}"] = savings_measure(
                        changed, intervention=at, until=until, holdout=False, half_life_days=hl
                    ).savings_fraction
                for days in () if options.slim else (270, 180):
                    try:
                        row[f"days{days}"] = savings_measure(
                            changed, intervention=at, until=until, holdout=False, baseline_days=days
                        ).savings_fraction
                    except SavingsError:
                        row[f"days{days}"] = None
                for name, picked in chosen.items():
                    row[name] = None
                    if picked is None:
                        continue
                    row[name + "_who"] = [picked, by_error.get(picked), by_corr.get(picked)]
                    try:
                        row[name] = savings_measure(
                            _with(changed, comparison=allinputs[picked].load),
                            intervention=at,
                            until=until,
                            holdout=False,
                            half_life_days=None,
                        ).savings_fraction
                    except SavingsError:
                        continue
                rows.append(row)
    text = json.dumps(rows)
    if options.out:
        with open(options.out, "w") as handle:
            handle.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
