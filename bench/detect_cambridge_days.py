"""Day-level findings on the Cambridge buildings: closed weekdays found with no calendar, per building.

Loads the 16 buildings (bench/detect_cambridge.py's loader, no calendar; then stores the exact zeros that are
readings, which that loader leaves out as missing: b24's solar panels cover it on sunny closed days, so use a
database of its own), writes a day label file per
building (`date,is_anomaly`: its weekdays on England's bank holidays, from the `holidays` package, and
in the Christmas closure, 24 Dec to 1 Jan) and runs the same evaluation as
`manage.py evaluate_detector --meter CAM-<code> --labels <file>` on each. Prints the day precision,
recall and F1 with the plain Isolation Forest's (`baseline_` prefix) for the eight buildings with a
clear working week, their mean, and for the eight others how many day findings they got (a closure
of consecutive working days is one finding). Beside them, `day_event_*`: each finding counted once
(precision: the share of findings that cover a labelled day; recall: the labelled days covered). The
last line is one JSON object. `--detail` also lists, per building, each false and missed day: its kind,
the length of the finding it belongs to, and its kWh as a share of a usual same weekday and of a usual
closed day (the medians within four weeks of it), to tell unlabelled closures from noise. `--ceiling` also
prints, per building, what the labels allow at best: the labelled days the building visibly worked (its
total nearer the usual same weekday than the usual closed day), the unlabelled weekdays at the closed-day
level (within a fifth of the gap of the usual closed day), and the day F1 and per-finding F1 of an oracle
that flags every labelled day except those it worked, and every unlabelled weekday at the closed-day level
(runs of them, only weekends between, are one finding): no detector that is right about the days whose
level is plain can score above it against these labels. Under it, our false and missed days by their level at
the oracle's thresholds (`losses`): what is label noise (labelled days the building worked, unlabelled weekdays
at the closed level), what is plain (a missed closed day, a working day flagged), what lies in between, and
the closed days found used like working days (the oracle flags none).

    createdb -h 127.0.0.1 -U postgres wt_days
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_days DEBUG=1
    .venv/bin/python manage.py migrate -v0 && nice -n 5 .venv/bin/python bench/detect_cambridge_days.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from zoneinfo import ZoneInfo  # noqa: E402

import holidays  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from detect_cambridge import DATA, load  # noqa: E402
from django.db.models import Max, Min  # noqa: E402

from meters.ingest.zeros import real_zeros  # noqa: E402
from meters.models import Meter, Reading  # noqa: E402
from predictions.detection.days import CLOSURE, closed_weekdays, day_findings, day_profiles, finding_days  # noqa: E402
from predictions.detection.evaluate_run import evaluate_meter  # noqa: E402
from predictions.detection.frames import frame_load, meter_infos  # noqa: E402

CLEAR_WEEK = ("b24", "b110", "b8", "b9", "b14", "b34", "b54", "b117")
KEYS = (
    "day_precision",
    "day_recall",
    "day_f1",
    "baseline_day_precision",
    "baseline_day_recall",
    "baseline_day_f1",
    "day_f1_all_findings",
    "day_event_precision",
    "day_event_f1",
)


def zeros_add(meters: dict[str, Meter]) -> int:
    """The exact zeros the loader left out as missing that are readings (real_zeros: b24's solar panels cover it
    at midday), stored as readings, as an import that keeps zeros would; returns how many (0 once stored)."""
    added = 0
    for code, meter in meters.items():
        for path in sorted((DATA / "electricity" / f"UCam_Building_{code}").glob("*.csv")):
            frame = pd.read_csv(path).dropna()
            kwh = frame.iloc[:, 1].to_numpy(dtype=float)
            keep = frame[(kwh == 0) & real_zeros(kwh=kwh, interval_minutes=meter.interval_minutes)]
            rows = [
                Reading(meter=meter, timestamp=pd.Timestamp(ts).tz_localize("UTC").to_pydatetime(), kwh=0.0)
                for ts in keep.iloc[:, 0]
            ]
            added += len(Reading.objects.bulk_create(rows, ignore_conflicts=True))
    return added


def closed_weekday(day: dt.date, bank_holidays: holidays.HolidayBase) -> bool:
    """A weekday the building was closed: a bank holiday in England, or the Christmas closure."""
    christmas = (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1)
    return day.weekday() < 5 and (day in bank_holidays or christmas)


def labels_write(*, meter: Meter, folder: Path) -> tuple[Path, int]:
    """Every local day of the meter's history, labelled; returns the file and how many days are positive."""
    zone = ZoneInfo("Europe/London")
    bounds = Reading.objects.filter(meter=meter).aggregate(first=Min("timestamp"), last=Max("timestamp"))
    first, last = bounds["first"].astimezone(zone).date(), bounds["last"].astimezone(zone).date()
    bank_holidays = holidays.UK(subdiv="ENG", years=range(first.year, last.year + 1))
    path = folder / f"{meter.serial}.csv"
    positives = 0
    with path.open("w") as handle:
        handle.write("date,is_anomaly\n")
        day = first
        while day <= last:
            closed = closed_weekday(day, bank_holidays)
            positives += closed
            handle.write(f"{day.isoformat()},{int(closed)}\n")
            day += dt.timedelta(days=1)
    return path, positives


def _day_findings(meter: Meter) -> tuple[int, int]:
    """How many day findings a scan of the meter's whole history gives, and how many days they claim."""
    bounds = Reading.objects.filter(meter=meter).aggregate(first=Min("timestamp"), last=Max("timestamp"))
    infos = meter_infos(meter_ids=[meter.id])
    end = bounds["last"] + dt.timedelta(hours=1)
    found = day_findings(infos=infos, meter_ids=[meter.id], start=bounds["first"], end=end, until=end)
    return len(found), sum(f.days for f in found)


def _truth(labels: Path) -> dict[dt.date, bool]:
    return {
        dt.date.fromisoformat(day): flag.strip() == "1"
        for day, flag in (line.split(",") for line in labels.read_text().splitlines()[1:])
    }


def _scanned(meter: Meter) -> tuple[dict[dt.date, tuple[str, int]], pd.DataFrame, frozenset[int]]:
    """The days the meter's day findings claim (scanned as evaluate_meter scans: two folds), with their kind and
    the length of their finding; the meter's day profiles; its learned weekend."""
    tz = "Europe/London"
    bounds = Reading.objects.filter(meter=meter).aggregate(first=Min("timestamp"), last=Max("timestamp"))
    first, last = bounds["first"], bounds["last"] + dt.timedelta(hours=1)
    frame = frame_load(meter_ids=[meter.id], start=first, end=last)
    infos = meter_infos(meter_ids=[meter.id])
    middle = first + (last - first) / 2
    found = [
        f
        for start, end in ((first, middle), (middle, last))
        for f in day_findings(infos=infos, meter_ids=[meter.id], start=start, end=end, frame=frame, until=last)
    ]
    profiles = day_profiles(readings=frame, tz=tz, interval_minutes=meter.interval_minutes, min_coverage=0.8)
    weekend = closed_weekdays(profiles=profiles, holidays=set(), min_separation=0.85)
    flagged = {
        day: (f.kind, f.days)
        for f in found
        for day in finding_days(kind=f.kind, start=f.start, end=f.end, tz=tz, closed=set(), weekend=weekend)
    }
    return flagged, profiles, weekend


def detail_print(*, meter: Meter, labels: Path) -> None:
    """Each false and missed day of the meter's day findings (scored as evaluate_meter scores them: two folds)."""
    truth = _truth(labels)
    flagged, profiles, weekend = _scanned(meter)
    totals = profiles.sum(axis=1)

    def level(day: dt.date) -> str:
        near = [d for d in totals.index if 0 < abs((d - day).days) <= 28]
        usual = [totals[d] for d in near if d.weekday() == day.weekday() and not truth.get(d)]
        closed = [totals[d] for d in near if d.weekday() in weekend]
        if day not in totals.index or not usual or not closed:
            return "no complete day of readings"
        return (
            f"{totals[day]:7.0f} kWh, {100 * totals[day] / np.median(usual):4.0f} % of a usual "
            f"{day:%A}, {100 * totals[day] / np.median(closed):4.0f} % of a usual closed day"
        )

    false = sorted(d for d in flagged if d in truth and not truth[d])
    missed = sorted(d for d, positive in truth.items() if positive and d not in flagged)
    hits = sum(1 for d in flagged if truth.get(d))
    print(f"  {meter.serial}: true {hits}, false {len(false)}, missed {len(missed)}")
    for day in false:
        kind, days = flagged[day]
        run = "alone" if days == 1 else f"one of {days} working days"
        print(f"    false  {day} {day:%a} {kind:18} {run:24} {level(day)}")
    for day in missed:
        print(f"    missed {day} {day:%a} {'':18} {'':24} {level(day)}")


def _usual_levels(totals: dict[dt.date, float], day: dt.date, truth: dict[dt.date, bool]) -> tuple[float, float] | None:
    """The usual same weekday (unlabelled) and the usual weekend day within four weeks of `day`: medians."""
    near = [d for d in totals if 0 < abs((d - day).days) <= 28]
    usual = [totals[d] for d in near if d.weekday() == day.weekday() and not truth.get(d)]
    closed = [totals[d] for d in near if d.weekday() >= 5]
    if len(usual) < 2 or len(closed) < 2 or np.median(usual) <= np.median(closed):
        return None
    return float(np.median(usual)), float(np.median(closed))


def ceiling(*, meter: Meter, labels: Path) -> dict[str, Any]:
    """What these labels allow at best on this building: an oracle right about every day whose level is plain.

    A labelled day the building visibly worked (its total at least half-way from the usual closed day to the
    usual same weekday) is a miss for any honest detector; an unlabelled weekday within a fifth of the gap of
    the usual closed day is a closure no label marks, a false day for any detector that finds closures. The
    oracle flags every other labelled day with a complete day of readings (a day without one is judged by no
    detector) and every such unlabelled weekday; runs of flagged weekdays with only weekends between are one
    finding (for the per-finding F1).
    """
    truth = _truth(labels)
    flagged_by_us, profiles, _ = _scanned(meter)
    sums = profiles.sum(axis=1)
    totals: dict[dt.date, float] = {day: float(total) for day, total in zip(sums.index, sums.to_numpy(), strict=True)}
    worked: list[str] = []
    closed_unlabelled: set[dt.date] = set()
    for day in sorted(totals):
        levels = _usual_levels(totals, day, truth) if day.weekday() < 5 else None
        if levels is None:
            continue
        position = (totals[day] - levels[1]) / (levels[0] - levels[1])
        if truth.get(day) and position >= 0.5:
            worked.append(f"{day} {100 * totals[day] / levels[0]:.0f} %")
        elif not truth.get(day) and position < 0.2:
            closed_unlabelled.add(day)
    positives = {day for day, flag in truth.items() if flag}
    unjudged = sorted(day for day in positives if day not in totals)  # under 80 % of its readings: never judged
    flagged = sorted(
        (positives - set(unjudged) - {dt.date.fromisoformat(w.split()[0]) for w in worked}) | closed_unlabelled
    )
    hits = sum(1 for day in flagged if truth.get(day))
    precision, recall = hits / max(len(flagged), 1), hits / max(len(positives), 1)
    runs: list[list[dt.date]] = []
    for day in flagged:
        if runs and all(
            (runs[-1][-1] + dt.timedelta(days=n)).weekday() >= 5 for n in range(1, (day - runs[-1][-1]).days)
        ):
            runs[-1].append(day)
        else:
            runs.append([day])
    run_precision = sum(1 for run in runs if any(truth.get(day) for day in run)) / max(len(runs), 1)

    def f1(p: float, r: float) -> float:
        return round(2 * p * r / (p + r), 4) if p + r else 0.0

    return {
        "losses": losses(flagged=flagged_by_us, totals=totals, truth=truth),
        "labelled_days": len(positives),
        "labelled_days_without_readings": len(unjudged),
        "labelled_days_worked": len(worked),
        "worked": worked,
        "unlabelled_closed_weekdays": len(closed_unlabelled),
        "unlabelled_closed_runs": sum(1 for run in runs if not any(truth.get(day) for day in run)),
        "oracle_day_f1": f1(precision, recall),
        "oracle_day_event_f1": f1(run_precision, recall),
    }


def losses(
    *, flagged: dict[dt.date, tuple[str, int]], totals: dict[dt.date, float], truth: dict[dt.date, bool]
) -> dict[str, int]:
    """Our false and missed days by their level, with the oracle's own levels and thresholds: a missed labelled
    day the building worked (at least half-way to the usual weekday: label noise, the oracle misses it too),
    ran closed (within a fifth of the gap of the usual closed day: a plain miss) or in between; a false
    closure at the closed-day level (an unlabelled closure: the oracle flags it too), at the working level (a
    plain false) or in between; a closed day found used like a working day (the oracle flags no closed day)."""
    out = dict.fromkeys(
        (
            "missed_worked",
            "missed_closed",
            "missed_between",
            "missed_no_level",
            "false_closed",
            "false_worked",
            "false_between",
            "false_no_level",
            "false_closed_day_use",
        ),
        0,
    )
    for day in sorted(set(flagged) | {d for d, positive in truth.items() if positive}):
        if truth.get(day, False) == (day in flagged):
            continue
        if day in flagged and flagged[day][0] != CLOSURE:
            out["false_closed_day_use"] += 1
            continue
        levels = _usual_levels(totals, day, truth) if day in totals and day.weekday() < 5 else None
        side = "false" if day in flagged else "missed"
        if levels is None:
            out[f"{side}_no_level"] += 1  # no complete day, or too few usual days near it to place it
            continue
        position = (totals[day] - levels[1]) / (levels[0] - levels[1])
        out[f"{side}_{'worked' if position >= 0.5 else 'closed' if position < 0.2 else 'between'}"] += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="building codes to evaluate (default: all sixteen)")
    parser.add_argument("--labels-dir", type=Path, help="keep the label files here (default: a temporary folder)")
    parser.add_argument("--detail", action="store_true", help="list each false and missed day with its level")
    parser.add_argument("--ceiling", action="store_true", help="also the best F1 these labels allow per building")
    options = parser.parse_args()
    began = time.perf_counter()
    load()
    print(f"loaded the buildings in {time.perf_counter() - began:.0f} s", flush=True)
    meters = {m.serial.removeprefix("CAM-"): m for m in Meter.objects.filter(serial__startswith="CAM-")}
    print(f"{zeros_add(meters)} exact zeros are readings (solar panels covering a building), stored", flush=True)
    codes = [
        c
        for c in sorted(meters, key=lambda c: (c not in CLEAR_WEEK, int(c[1:])))
        if not options.only or c in options.only
    ]
    clear: dict[str, dict[str, Any]] = {}
    others: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="cambridge-days-") as scratch:
        tmp = options.labels_dir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        for code in codes:
            began = time.perf_counter()
            path, positives = labels_write(meter=meters[code], folder=Path(tmp))
            result = evaluate_meter(serial=meters[code].serial, labels=path)
            scanned = _day_findings(meters[code])
            row = {key: result[key] for key in KEYS} | {
                "labelled_days": positives,
                "day_findings": scanned[0],
                "days_flagged": scanned[1],
                "findings": result["anomalies"],
            }
            (clear if code in CLEAR_WEEK else others)[code] = row
            print(
                f"{code:5} {'clear week' if code in CLEAR_WEEK else 'no clear week':13} "
                f"day P {row['day_precision']:.2f} R {row['day_recall']:.2f} F1 {row['day_f1']:.2f} | "
                f"baseline P {row['baseline_day_precision']:.2f} R {row['baseline_day_recall']:.2f} "
                f"F1 {row['baseline_day_f1']:.2f} | all findings F1 {row['day_f1_all_findings']:.2f} | "
                f"per finding P {row['day_event_precision']:.2f} F1 {row['day_event_f1']:.2f} | "
                f"day findings {row['day_findings']} ({row['days_flagged']} days), all findings {row['findings']} "
                f"({time.perf_counter() - began:.0f} s)",
                flush=True,
            )
            if options.detail:
                detail_print(meter=meters[code], labels=path)
            if options.ceiling and code in CLEAR_WEEK:
                bound = ceiling(meter=meters[code], labels=path)
                row |= {f"ceiling_{key}": value for key, value in bound.items()}
                print(
                    f"  ceiling: {bound['labelled_days_worked']} of {bound['labelled_days']} labelled days "
                    f"visibly worked ({', '.join(bound['worked']) or 'none'}); "
                    f"{bound['unlabelled_closed_weekdays']} unlabelled weekdays at the closed-day level "
                    f"({bound['unlabelled_closed_runs']} findings with no labelled day); oracle day F1 "
                    f"{bound['oracle_day_f1']:.2f}, per finding {bound['oracle_day_event_f1']:.2f}; "
                    f"{bound['labelled_days_without_readings']} labelled days without a complete day of readings",
                    flush=True,
                )
                print("  our losses by level: " + ", ".join(f"{k} {v}" for k, v in bound["losses"].items()), flush=True)
    report: dict[str, Any] = {
        "clear_week": clear,
        "mean_day_f1": round(sum(r["day_f1"] for r in clear.values()) / max(len(clear), 1), 4),
        "mean_day_event_f1": round(sum(r["day_event_f1"] for r in clear.values()) / max(len(clear), 1), 4),
        "mean_baseline_day_f1": round(sum(r["baseline_day_f1"] for r in clear.values()) / max(len(clear), 1), 4),
    }
    if options.ceiling:
        for key in ("oracle_day_f1", "oracle_day_event_f1"):
            values = [r[f"ceiling_{key}"] for r in clear.values()]
            report[f"mean_ceiling_{key}"] = round(sum(values) / max(len(values), 1), 4)
    report["no_clear_week"] = others
    print(json.dumps(report))


if __name__ == "__main__":
    main()
