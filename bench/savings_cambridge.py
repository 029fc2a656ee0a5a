"""Measured savings on real Cambridge buildings with known cuts: does `measure_savings` find them?

    DEBUG=1 .venv/bin/python bench/savings_cambridge.py [--buildings b105 b20] [--dates 2019-02-04 ...]
        [--variants | --compare] [--half-life DAYS]

Loads the buildings (site `cambridge`, one hostel and main meter `CAM-<id>` per building, as
bench/detect_cambridge.py does), the weather, English public holidays and the University's full
terms. For each building and intervention date, the real series is cut after the date (10 % and
20 % of every hour; half the night-time baseload; nothing at all) and the baseline is fitted on
the 365 days before it. Prints one JSON report: per case the known share, the measured fraction,
its 90 % interval, and the worst case and mean error. `--variants` compares baseline models on the
untouched buildings instead (how the model was chosen, docs/savings.md); `--compare` compares the
estimates of the daily baseline with and without recency weighting, a shorter one and CalTRACK's
hourly TOWT on every case.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import holidays  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from savings_towt import towt_fraction  # noqa: E402  (bench/, beside this file)
from tqdm import tqdm  # noqa: E402

from analytics.savings.comparison import with_comparison  # noqa: E402
from analytics.savings.inputs import savings_inputs_for_meter  # noqa: E402
from analytics.savings.model import SavingsError, SavingsInputs, savings_measure  # noqa: E402
from meters.models import AcademicPeriod, Hostel, HourlyRollup, Meter, Reading, Site, Weather  # noqa: E402
from meters.services import rollups_rebuild  # noqa: E402

DATA = Path(os.environ.get("CAMBRIDGE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "cambridge"))
Y2018 = dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
Y2019 = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
# University of Cambridge full terms (the published calendar); the rest of the year is vacation.
FULL_TERMS = [
    ("Lent 2018", dt.date(2018, 1, 16), dt.date(2018, 3, 16)),
    ("Easter 2018", dt.date(2018, 4, 24), dt.date(2018, 6, 15)),
    ("Michaelmas 2018", dt.date(2018, 10, 2), dt.date(2018, 11, 30)),
    ("Lent 2019", dt.date(2019, 1, 15), dt.date(2019, 3, 15)),
    ("Easter 2019", dt.date(2019, 4, 23), dt.date(2019, 6, 14)),
    ("Michaelmas 2019", dt.date(2019, 10, 8), dt.date(2019, 12, 6)),
]
# Intervention dates in four seasons; each reports on the 91 days from its date.
DATES = (dt.date(2019, 1, 7), dt.date(2019, 4, 1), dt.date(2019, 7, 1), dt.date(2019, 9, 30))
REPORT_DAYS = 91
CUTS = ("none", "cut10", "cut20", "baseload50")
STEADY_CV = 0.10
# --compare: the baselines compared (estimates only, no interval), docs/savings.md.
COMPARED: dict[str, dict[str, object]] = {
    "daily, every day weighs the same (before)": {"half_life_days": None},
    "daily, 180 days": {"half_life_days": None, "baseline_days": 180},
    "daily, half-life 14 days": {"half_life_days": 14.0},
    "daily, half-life 21 days": {"half_life_days": 21.0},
    "daily, half-life 30 days": {"half_life_days": 30.0},
    "daily, half-life 45 days": {"half_life_days": 45.0},
    "daily, half-life 60 days": {"half_life_days": 60.0},
    "daily, half-life 120 days": {"half_life_days": 120.0},
    "hourly TOWT (CalTRACK hourly)": {"towt": True},
}


def _width(row: dict[str, object]) -> float:
    return float(str(row["fraction_high"])) - float(str(row["fraction_low"]))


def _summary(rows: list[dict[str, object]]) -> dict[str, object]:
    if not rows:
        return {"cases": 0}
    errors = [abs(float(row["error"])) for row in rows]  # type: ignore[arg-type]
    return {
        "cases": len(rows),
        "mean_abs_error": round(statistics.fmean(errors), 4),
        "worst_abs_error": round(max(errors), 4),
        "within_3_points": sum(e <= 0.03 for e in errors),
        "interval_holds_truth": sum(bool(row["interval_holds_truth"]) for row in rows),
        "mean_interval_width": round(statistics.fmean(_width(row) for row in rows), 4),
        "median_interval_width": round(statistics.median(_width(row) for row in rows), 4),
        "baseline_fit": sum(bool(row["baseline_fit"]) for row in rows),
    }


def load_site() -> Site:
    site, _ = Site.objects.get_or_create(
        code="cambridge",
        defaults={"name": "Cambridge", "timezone": "Europe/London", "latitude": 52.2, "longitude": 0.12},
    )
    if not Weather.objects.filter(site=site).exists():
        for year in (2018, 2019):
            weather = pd.read_csv(DATA / "weather" / f"{year}.csv")
            Weather.objects.bulk_create(
                (
                    Weather(
                        site=site,
                        timestamp=pd.Timestamp(row[0]).tz_localize("UTC").to_pydatetime(),
                        temperature_c=float(row[1]),
                    )
                    for row in weather.itertuples(index=False)
                    if pd.notna(row[1])
                ),
                batch_size=5000,
                ignore_conflicts=True,
            )
    if not AcademicPeriod.objects.filter(site=site).exists():
        AcademicPeriod.objects.bulk_create(
            AcademicPeriod(site=site, kind=AcademicPeriod.Kind.HOLIDAY, name=name, start=day, end=day)
            for day, name in holidays.country_holidays("GB", subdiv="ENG", years=(2018, 2019)).items()
        )
        AcademicPeriod.objects.bulk_create(
            AcademicPeriod(site=site, kind=AcademicPeriod.Kind.TERM, name=name, start=start, end=end)
            for name, start, end in FULL_TERMS
        )
    return site


def load_building(site: Site, code: str) -> str:
    folder = DATA / "electricity" / f"UCam_Building_{code}"
    hostel, _ = Hostel.objects.get_or_create(site=site, code=code, defaults={"name": f"Building {code}"})
    meter, created = Meter.objects.get_or_create(
        serial=f"CAM-{code}",
        defaults={
            "kind": Meter.Kind.HOSTEL_MAIN,
            "hostel": hostel,
            "interval_minutes": 60,
            "rated_kw": 5000,
            "installed_at": Y2018 if (folder / "2018.csv").exists() else Y2019,
        },
    )
    if created or not Reading.objects.filter(meter=meter).exists():
        for year in (2018, 2019):
            if not (folder / f"{year}.csv").exists():
                continue
            frame = pd.read_csv(folder / f"{year}.csv")
            frame = frame[frame.iloc[:, 1] != 0]  # upstream filled missing readings with 0
            Reading.objects.bulk_create(
                (
                    Reading(meter=meter, timestamp=pd.Timestamp(ts).tz_localize("UTC").to_pydatetime(), kwh=float(kwh))
                    for ts, kwh in frame.itertuples(index=False)
                    if pd.notna(kwh)
                ),
                batch_size=5000,
                ignore_conflicts=True,
            )
    # Series are read from rollups when a meter has any: rollups of part of the history (a page viewed over
    # one month rebuilds that month) would hide the rest of the readings, so complete them.
    rollups = HourlyRollup.objects.filter(meter=meter).count()
    if rollups and rollups < 0.99 * Reading.objects.filter(meter=meter).count():
        rollups_rebuild(meter_ids=[meter.pk], start=Y2018, end=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    return meter.serial


def cut(inputs: SavingsInputs, *, kind: str, at: dt.date, until: dt.date) -> tuple[SavingsInputs, float]:
    """The series with the cut applied from `at` (local midnight), and the cut's true share of the
    energy of the reporting days."""
    load = inputs.load.copy()
    local = pd.DatetimeIndex(load.index).tz_convert(inputs.timezone)
    after = np.asarray(local.date >= at) & np.asarray(local.date <= until)
    original = float(load[after].sum())
    if kind == "none":
        removed = 0.0
    elif kind.startswith("cut"):
        share = int(kind[3:]) / 100
        removed = float(load[after].sum()) * share
        load[after] = load[after] * (1 - share)
    elif kind == "baseload50":
        before = np.asarray(local.date < at)
        floor = float(load[before].dropna().tail(24 * 365).quantile(0.05))
        taken = np.minimum(load[after], floor * 0.5)
        removed = float(taken.sum())
        load[after] = load[after] - taken
    else:
        raise ValueError(kind)
    changed = SavingsInputs(
        load=load,
        timezone=inputs.timezone,
        temperature=inputs.temperature,
        occupancy=inputs.occupancy,
        calendar=inputs.calendar,
        label=inputs.label,
    )
    return changed, removed / original


def _alone(inputs: SavingsInputs) -> SavingsInputs:
    return SavingsInputs(
        load=inputs.load,
        timezone=inputs.timezone,
        temperature=inputs.temperature,
        occupancy=inputs.occupancy,
        calendar=inputs.calendar,
        label=inputs.label,
    )


VARIANTS = {
    "temperature only (CalTRACK intercept/HDD/CDD)": {"calendar": False, "day_of_week": False},
    "+ day of week": {"calendar": False, "day_of_week": True},
    "+ day of week + holidays and terms": {"calendar": True, "day_of_week": True},
}


def variants(serials: list[str]) -> dict[str, object]:
    """Untouched buildings, every date: the error of each baseline model (the true fraction is 0)."""
    report: dict[str, object] = {}
    loaded = {serial: savings_inputs_for_meter(serial=serial) for serial in serials}
    for name, options in VARIANTS.items():
        errors, covered, cvs = [], 0, []
        for serial in serials:
            for at in DATES:
                until = at + dt.timedelta(days=REPORT_DAYS - 1)
                try:
                    result = savings_measure(loaded[serial], intervention=at, until=until, **options)
                except SavingsError:
                    continue
                errors.append(result.savings_fraction)
                covered += result.fraction_low <= 0 <= result.fraction_high
                cvs.append(result.baseline_cv_rmse)
        report[name] = {
            "cases": len(errors),
            "mean_abs_error": round(statistics.fmean(abs(e) for e in errors), 4),
            "worst_abs_error": round(max(abs(e) for e in errors), 4),
            "within_3_points": sum(abs(e) <= 0.03 for e in errors),
            "interval_holds_0": covered,
            "median_cv_rmse": round(statistics.median(cvs), 4),
        }
    return report


def compare(serials: list[str], dates: tuple[dt.date, ...]) -> dict[str, object]:
    """Every case, every baseline in COMPARED: the estimate's error (the interval is not computed)."""
    errors: dict[str, list[float]] = {name: [] for name in COMPARED}
    steady: dict[str, list[float]] = {name: [] for name in COMPARED}
    for serial in tqdm(serials, desc="comparing", file=sys.stderr):
        inputs = savings_inputs_for_meter(serial=serial)
        last = pd.DatetimeIndex(inputs.load.dropna().index).tz_convert(inputs.timezone).max().date()
        for at in dates:
            until = min(at + dt.timedelta(days=REPORT_DAYS - 1), last)
            if until < at + dt.timedelta(days=27):
                continue
            for kind in CUTS:
                changed, truth = cut(inputs, kind=kind, at=at, until=until)
                try:  # the cases of the main report: a year's baseline that can be fitted
                    reference = savings_measure(
                        changed, intervention=at, until=until, holdout=False, half_life_days=None
                    )
                except SavingsError:
                    break
                for name, options in COMPARED.items():
                    try:
                        if options.get("towt"):
                            fraction = towt_fraction(changed, intervention=at, until=until)
                        else:
                            fraction = savings_measure(
                                changed,
                                intervention=at,
                                until=until,
                                holdout=False,
                                **options,  # type: ignore[arg-type]
                            ).savings_fraction
                    except SavingsError:
                        continue  # a shorter baseline without enough days
                    errors[name].append(abs(fraction - truth))
                    if reference.baseline_cv_rmse <= STEADY_CV:
                        steady[name].append(abs(fraction - truth))

    def row(values: list[float]) -> dict[str, object]:
        return {
            "cases": len(values),
            "mean_abs_error": round(statistics.fmean(values), 4),
            "median_abs_error": round(statistics.median(values), 4),
            "worst_abs_error": round(max(values), 4),
            "within_3_points": sum(e <= 0.03 for e in values),
        }

    return {name: {"all": row(errors[name]), "steady": row(steady[name])} for name in COMPARED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", nargs="*")
    parser.add_argument("--variants", action="store_true", help="Compare baseline models on untouched buildings.")
    parser.add_argument(
        "--dates",
        nargs="*",
        type=dt.date.fromisoformat,
        help="Intervention dates (default: the four development dates).",
    )
    parser.add_argument("--trend", action="store_true", help="Baseline with a linear trend term (a variant).")
    parser.add_argument(
        "--compare", action="store_true", help="Compare the estimates of daily (weighted or not) and hourly baselines."
    )
    parser.add_argument(
        "--comparison",
        action="store_true",
        help="As measure_savings --comparison: the best untouched other building as a regressor when it predicts "
        "the 8 weeks before the date better (default: the building alone).",
    )
    parser.add_argument(
        "--half-life",
        type=float,
        default=0,
        help="Recency weighting of the baseline days: a day's weight halves every DAYS back (default 0: every "
        "day weighs the same, as measure_savings does without --half-life).",
    )
    options = parser.parse_args()
    dates = tuple(options.dates or DATES)
    site = load_site()
    codes = options.buildings or sorted(p.name.split("_")[-1] for p in (DATA / "electricity").iterdir())
    serials = [load_building(site, code) for code in tqdm(codes, desc="loading", file=sys.stderr)]
    if options.variants:
        print(json.dumps({"variants": variants(serials)}))
        return
    if options.compare:
        print(json.dumps({"dates": [at.isoformat() for at in dates], "compare": compare(serials, dates)}))
        return
    half_life = options.half_life or None
    cases = []
    loads = {serial: savings_inputs_for_meter(serial=serial) for serial in serials}
    for serial in tqdm(serials, desc="measuring", file=sys.stderr):
        inputs = loads[serial]
        last = pd.DatetimeIndex(inputs.load.dropna().index).tz_convert(inputs.timezone).max().date()
        for at in dates:
            until = min(at + dt.timedelta(days=REPORT_DAYS - 1), last)
            if until < at + dt.timedelta(days=27):
                reason = f"data ends {last}: under 28 reporting days"
                cases.append({"meter": serial, "intervention": at.isoformat(), "skipped": reason})
                continue
            # The comparison: the other buildings, untouched (chosen on the days before `at`, which no cut changes).
            others = {other: loads[other].load for other in serials if other != serial}
            chosen = None if not options.comparison else with_comparison(inputs, others, intervention=at, until=until)
            for kind in CUTS:
                changed, truth = cut(inputs, kind=kind, at=at, until=until)
                if chosen is not None and chosen.comparison is not None:
                    changed.comparison, changed.comparison_label = chosen.comparison, chosen.comparison_label
                try:
                    result = savings_measure(
                        changed, intervention=at, until=until, trend=options.trend, half_life_days=half_life
                    )
                except SavingsError as error:
                    cases.append({"meter": serial, "intervention": at.isoformat(), "cut": kind, "skipped": str(error)})
                    break
                cases.append(
                    {
                        "meter": serial,
                        "intervention": at.isoformat(),
                        "cut": kind,
                        "true_fraction": round(truth, 4),
                        "savings_fraction": round(result.savings_fraction, 4),
                        "fraction_low": round(result.fraction_low, 4),
                        "fraction_high": round(result.fraction_high, 4),
                        "error": round(result.savings_fraction - truth, 4),
                        "interval_holds_truth": result.fraction_low <= truth <= result.fraction_high,
                        "baseline_fit": result.baseline_fit,
                        "baseline_problems": result.baseline_problems,
                        "baseline_cv_rmse": round(result.baseline_cv_rmse, 4),
                        "baseline_nmbe": round(result.baseline_nmbe, 6),
                        "baseline_holdout_error": result.summary()["baseline_holdout_error"],
                        "holdout_errors": [round(e, 4) for e in result.holdout_errors],
                        "holdout_days": result.holdout_days,
                        "guideline14_half_width": round(result.guideline14_half_width, 4),
                        "reporting_days": result.reporting_days,
                        "comparison": result.comparison,
                        # "steady" is judged on the building alone, equal weights (the same cases in every run)
                        "alone_cv_rmse": round(
                            result.baseline_cv_rmse
                            if not result.comparison and half_life is None
                            else savings_measure(
                                _alone(changed), intervention=at, until=until, holdout=False, half_life_days=None
                            ).baseline_cv_rmse,
                            4,
                        ),
                    }
                )
    measured = [case for case in cases if "error" in case]
    errors = [abs(float(case["error"])) for case in measured]
    worst = max(measured, key=lambda case: abs(float(case["error"])))
    by_cut = {kind: _summary(rows) for kind in CUTS if (rows := [r for r in measured if r["cut"] == kind])}
    # Cases whose baseline fits its own year well (chosen before looking at the errors: it depends on
    # the baseline alone): the noise alone then moves a 91-day fraction by well under 3 points.
    steady = [case for case in measured if float(case["alone_cv_rmse"]) <= STEADY_CV]
    print(
        json.dumps(
            {
                "steady_baselines": {
                    "rule": f"the building-alone, equal-weight baseline's CV(RMSE) <= {STEADY_CV}",
                    "buildings": sorted({str(case["meter"]) for case in steady}),
                    **_summary(steady),
                },
                "buildings": len(serials),
                "dates": [at.isoformat() for at in dates],
                "report_days": REPORT_DAYS,
                "cases": len(measured),
                "skipped": [case for case in cases if "skipped" in case],
                "mean_abs_error": round(statistics.fmean(errors), 4),
                "worst_abs_error": round(max(errors), 4),
                "worst_case": worst,
                "within_3_points": sum(e <= 0.03 for e in errors),
                "interval_holds_truth": sum(bool(case["interval_holds_truth"]) for case in measured),
                "mean_interval_width": _summary(measured)["mean_interval_width"],
                "by_cut": by_cut,
                "half_life_days": half_life,
                "comparison": options.comparison,
                "with_comparison": _summary([case for case in measured if case["comparison"]]),
                "baseline_fit_cases": _summary([case for case in measured if case["baseline_fit"]]),
                "baseline_unfit_cases": _summary([case for case in measured if not case["baseline_fit"]]),
                "results": measured,
            }
        )
    )


if __name__ == "__main__":
    main()
