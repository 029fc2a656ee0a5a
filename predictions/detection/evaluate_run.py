"""Run an evaluation end to end: against simulator ground truth, or one imported meter against a labels file."""

from __future__ import annotations

import csv
import datetime as dt
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from django.db.models import Max, Min

from meters.models import AcademicPeriod, Incident, Meter, Reading
from predictions.detection.baselines import detection_meter_ids
from predictions.detection.days import (
    DAY_KINDS,
    DayConfig,
    calendar_dates,
    closed_weekdays,
    day_bounds,
    day_profiles,
    finding_days,
)
from predictions.detection.detectors import DetectorConfig
from predictions.detection.evaluation import (
    Span,
    day_scores,
    false_spans,
    isolation_forest_baseline,
    missed_spans,
    score_spans,
)
from predictions.detection.frames import frame_load
from predictions.detection.services import incidents_find
from predictions.ml.anomaly import AnomalyBaseline
from predictions.models import DetectorFeedback

ABLATIONS: dict[str, DetectorConfig] = {
    "point z only": DetectorConfig(use_rules=False, use_windows=False, use_low=False),
    "point z + 4 h/24 h windows": DetectorConfig(use_rules=False, use_low=False),
    "rules only": DetectorConfig(z=1e9, use_windows=False, use_low=False),
    "default: point + windows + rules + low": DetectorConfig(),
    "default without low consumption": DetectorConfig(use_low=False),
    "default + IQR fences": DetectorConfig(use_iqr=True),
    "default + seasonal profile": DetectorConfig(use_seasonal=True),
    "default + Isolation Forest (residual, V, A, PF)": DetectorConfig(use_iforest=True),
}


def _spans(found: list[Any]) -> list[Span]:
    return [Span(f.meter_id, f.start, f.end, f.kind) for f in found if not f.muted]


def _main_of() -> dict[int, int]:
    mains = dict(Meter.objects.filter(kind=Meter.Kind.HOSTEL_MAIN).values_list("hostel_id", "id"))
    return {
        meter_id: mains[hostel_id]
        for meter_id, hostel_id in Meter.objects.filter(kind=Meter.Kind.ROOM).values_list("id", "hostel_id")
        if hostel_id in mains
    }


def evaluate_simulated(
    *,
    train_fraction: float = 0.5,
    retrain_days: int = 7,
    config: DetectorConfig | None = None,
    ablation: bool = False,
) -> dict[str, Any]:
    """Walk forward as production does: train on everything before a period, detect in it, retrain, go on.

    The first `train_fraction` of the history is only for training; the rest is detected in steps of
    `retrain_days` (production retrains weekly), each with a model that never saw it.
    """
    bounds = Reading.objects.aggregate(first=Min("timestamp"), last=Max("timestamp"))
    if bounds["first"] is None or not Incident.objects.exists():
        raise ValueError("no readings or no ground-truth incidents in the database: run simulate_campus first")
    first, last = bounds["first"], bounds["last"] + dt.timedelta(minutes=15)
    split = (first + (last - first) * train_fraction).replace(hour=0, minute=0, second=0, microsecond=0)
    ids = detection_meter_ids(since=first)
    frame = frame_load(meter_ids=ids, start=first, end=last)
    steps: list[tuple[dt.datetime, dt.datetime, AnomalyBaseline]] = []
    train_seconds: list[float] = []
    # Week by week, as production: each week's findings are known to the model trained for the next one
    # (`AnomalyBaseline.train(known=...)`), as the persisted anomalies are to `baseline_train`.
    found: list[Any] = []
    readings, detect_seconds = 0, 0.0
    cursor = split
    while cursor < last:
        began = time.perf_counter()
        model = AnomalyBaseline()
        known = [(s.meter_id, s.start, s.end) for s in _spans(found)]
        model.train(frame[frame["ts"] < cursor].reset_index(drop=True), known=known)
        train_seconds.append(time.perf_counter() - began)
        step_end = min(cursor + dt.timedelta(days=retrain_days), last)
        steps.append((cursor, step_end, model))
        began = time.perf_counter()
        step_found, step_readings = incidents_find(
            meter_ids=ids, start=cursor, end=step_end, config=config, model=model, frame=frame
        )
        detect_seconds += time.perf_counter() - began
        found += step_found
        readings += step_readings
        cursor = step_end

    def detect(variant: DetectorConfig | None) -> tuple[list[Any], int, float]:
        began = time.perf_counter()
        found_all, scored = [], 0
        for step_start, step_end, model in steps:
            found, readings = incidents_find(
                meter_ids=ids, start=step_start, end=step_end, config=variant, model=model, frame=frame
            )
            found_all += found
            scored += readings
        return found_all, scored, time.perf_counter() - began

    truth = [
        Span(i.meter_id, i.start, i.end, i.kind)
        for i in Incident.objects.filter(meter_id__in=ids, end__gt=split, start__lt=last).exclude(
            kind=Incident.Kind.INTERVENTION
        )
    ]
    main_of = _main_of()
    window = (split, last)
    score = score_spans(detected=_spans(found), truth=truth, meters=len(ids), window=window, main_of=main_of)
    baseline = score_spans(
        detected=isolation_forest_baseline(meter_ids=ids, train=(first, split), detect=window),
        truth=truth,
        meters=len(ids),
        window=window,
        main_of=main_of,
    )
    result: dict[str, Any] = score.as_dict() | {
        "baseline_precision": baseline.precision,
        "baseline_recall": baseline.recall,
        "baseline_f1": baseline.f1,
        "baseline_false_alerts_per_meter_month": baseline.false_alerts_per_meter_month,
        "baseline_median_minutes_to_detect": baseline.median_minutes_to_detect,
        "meters": len(ids),
        "train_from": first.isoformat(),
        "detect_window": [split.isoformat(), last.isoformat()],
        "retrain_days": retrain_days,
        "models_trained": len(steps),
        "readings_scored": readings,
        "train_seconds_max": round(max(train_seconds), 2),
        "detect_seconds": round(detect_seconds, 2),
        "muted": sum(1 for f in found if f.muted),
        "feedback": _feedback_counts(ids),
        "false_alarms_detail": _span_detail(
            false_spans(detected=_spans(found), truth=truth, main_of=main_of), frame=frame, window=window
        ),
        "missed_detail": _span_detail(
            missed_spans(detected=_spans(found), truth=truth, main_of=main_of), frame=frame, window=window
        ),
    }
    if ablation:
        result["ablation"] = {}
        for name, variant in ABLATIONS.items():
            variant_found, _, _ = detect(variant)
            s = score_spans(
                detected=_spans(variant_found), truth=truth, meters=len(ids), window=window, main_of=main_of
            )
            result["ablation"][name] = {"precision": s.precision, "recall": s.recall, "f1": s.f1}
    return result


def _span_detail(spans: list[Span], *, frame: pd.DataFrame, window: tuple[dt.datetime, dt.datetime]) -> list[dict]:
    """Each false alarm (or missed incident) with what explains it: kind, meter kind, day in the window, hours,
    mean temperature."""
    kinds = dict(Meter.objects.filter(id__in={s.meter_id for s in spans}).values_list("id", "kind"))
    hourly = frame.assign(at=frame["ts"].dt.floor("1h")).groupby("at")["temp"].mean()
    detail = []
    for span in sorted(spans, key=lambda s: s.start):
        temps = hourly[(hourly.index >= pd.Timestamp(span.start).floor("1h")) & (hourly.index < pd.Timestamp(span.end))]
        detail.append(
            {
                "start": span.start.isoformat(),
                "day": round((span.start - window[0]).total_seconds() / 86400, 1),
                "kind": span.kind,
                "meter_kind": kinds.get(span.meter_id, ""),
                "meter_id": span.meter_id,
                "hours": round((span.end - span.start).total_seconds() / 3600, 1),
                "temp": round(float(temps.mean()), 1) if len(temps) else None,
            }
        )
    return detail


def _feedback_counts(meter_ids: list[int]) -> dict[str, int]:
    rows = DetectorFeedback.objects.filter(meter_id__in=meter_ids)
    return {"true_alarms": rows.filter(true_alarm=True).count(), "false_alarms": rows.filter(true_alarm=False).count()}


def _moment(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def labels_read(path: Path) -> tuple[dict[dt.date, bool], list[tuple[dt.datetime, dt.datetime]]]:
    """Either day labels (`date,is_anomaly`) or incidents (`start,end`); a bad row is an error naming its line."""
    days: dict[dt.date, bool] = {}
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = {name.strip().lower() for name in reader.fieldnames or []}
        if not ({"date", "is_anomaly"} <= fields or {"start", "end"} <= fields):
            raise ValueError(f"{path}: labels must have columns date,is_anomaly or start,end (found: {sorted(fields)})")
        for row in reader:
            row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            line = reader.line_num
            try:
                if {"date", "is_anomaly"} <= fields:
                    days[dt.date.fromisoformat(row["date"][:10])] = _flag(row["is_anomaly"])
                else:
                    start, end = _moment(row["start"]), _moment(row["end"])
                    if end <= start:
                        raise ValueError(f"end {row['end']} is not after start {row['start']}")
                    spans.append((start, end))
            except ValueError as error:
                raise ValueError(f"{path}, line {line}: {error}") from None
    return days, spans


def _flag(text: str) -> bool:
    value = text.lower()
    if value in ("1", "1.0", "true", "yes", "y"):
        return True
    if value in ("0", "0.0", "false", "no", "n"):
        return False
    raise ValueError(f"is_anomaly must be 1 or 0 (or true/false), not {text!r}")


def _within_readings(
    day_labels: dict[dt.date, bool],
    spans: list[tuple[dt.datetime, dt.datetime]],
    *,
    first: dt.datetime,
    last: dt.datetime,
    zone: dt.tzinfo,
) -> tuple[dict[dt.date, bool], list[tuple[dt.datetime, dt.datetime]], dict[str, int]]:
    """The labels from the meter's first reading to its last: a day before the meter was read cannot be judged.

    A labels file often covers a calendar (whole years) where the meter's readings start or end inside it;
    its labelled days outside the readings would count as missed. They are left out and counted.
    """
    first_day, last_day = first.astimezone(zone).date(), (last - dt.timedelta(microseconds=1)).astimezone(zone).date()
    inside = {day: positive for day, positive in day_labels.items() if first_day <= day <= last_day}
    kept = [(start, end) for start, end in spans if start < last and end > first]
    outside = {
        "label_days_outside_readings": len(day_labels) - len(inside),
        "label_positive_days_outside_readings": sum(day_labels.values()) - sum(inside.values()),
        "label_incidents_outside_readings": len(spans) - len(kept),
    }
    return inside, kept, outside


def evaluate_meter(*, serial: str, labels: Path, config: DetectorConfig | None = None) -> dict[str, Any]:
    """Detect over the meter's whole history (two folds in time, unsupervised), compare with the labels."""
    meter = Meter.objects.select_related("hostel__site").filter(serial=serial).first()
    if meter is None:
        raise ValueError(f"no meter with serial {serial!r}")
    bounds = Reading.objects.filter(meter=meter).aggregate(first=Min("timestamp"), last=Max("timestamp"))
    if bounds["first"] is None:
        raise ValueError(f"meter {serial} has no readings")
    first, last = bounds["first"], bounds["last"] + dt.timedelta(minutes=meter.interval_minutes)
    window = (first, last)
    tz = meter.hostel.site.timezone if meter.hostel else "UTC"
    zone = dt.UTC if tz == "UTC" else ZoneInfo(tz)
    all_days, all_spans = labels_read(labels)  # before detecting: a bad file fails at once
    day_labels, spans, unjudged = _within_readings(all_days, all_spans, first=first, last=last, zone=zone)
    if (all_days or all_spans) and not (day_labels or spans):
        raise ValueError(
            f"{labels}: no label falls between the meter's first and last reading ({first:%Y-%m-%d} to {last:%Y-%m-%d})"
        )
    config = config or DetectorConfig()
    if meter.interval_minutes >= 60:  # hourly data: rules counted in intervals need fewer of them
        config = replace(config, flat_intervals=6, dead_intervals=3)
    # Two folds in time: each half is detected by a model trained on the other, so nothing is scored in-sample.
    middle = first + (last - first) / 2
    frame = frame_load(meter_ids=[meter.id], start=first, end=last)
    found, readings = [], 0
    for detect_from, detect_to in ((first, middle), (middle, last)):
        model = AnomalyBaseline()
        outside = (frame["ts"] < pd.Timestamp(detect_from)) | (frame["ts"] >= pd.Timestamp(detect_to))
        model.train(frame[outside].reset_index(drop=True), holdout_days=0)
        part, n = incidents_find(
            meter_ids=[meter.id],
            start=detect_from,
            end=detect_to,
            config=config,
            model=model,
            frame=frame,
            history_end=last,  # an imported history: each day is judged within the weeks around it
        )
        found += part
        readings += n
    if day_labels:
        spans = [
            (
                dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC),
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC),
            )
            for day, positive in sorted(day_labels.items())
            if positive
        ]
    feedback = DetectorFeedback.objects.filter(meter=meter, true_alarm=True, anomaly__isnull=False)
    spans += [(f.anomaly.start, f.anomaly.end) for f in feedback.select_related("anomaly") if f.anomaly]
    truth = _merge([Span(meter.id, s, e) for s, e in spans])
    detected = _spans(found)
    score = score_spans(detected=detected, truth=truth, meters=1, window=window)
    baseline_spans = isolation_forest_baseline(meter_ids=[meter.id], train=window, detect=window)
    baseline = score_spans(detected=baseline_spans, truth=truth, meters=1, window=window)
    result: dict[str, Any] = (
        score.as_dict()
        | {
            "baseline_precision": baseline.precision,
            "baseline_recall": baseline.recall,
            "baseline_f1": baseline.f1,
            "baseline_false_alerts_per_meter_month": baseline.false_alerts_per_meter_month,
            "meter": serial,
            "window": [first.isoformat(), last.isoformat()],
            "readings_scored": readings,
            "anomalies": len(detected),
        }
        | unjudged
    )
    if day_labels:
        # Day labels judge whole days: the day-level findings answer them. An hour's spike or a gap in the
        # data is not a claim about a day; what every finding scores is kept beside, with `_all_findings`.
        # A closure over consecutive working days is one finding; it claims its working days (not the weekends
        # inside it), each scored. The `day_event_*` figures count each finding once instead: its precision is
        # the share of findings that cover a labelled day (one alert per closure, as a facility team reads them).
        first_day, last_day = min(day_labels), max(day_labels)
        site_id = meter.hostel.site_id if meter.hostel else None
        closed = calendar_dates(site_id=site_id, start=first_day, end=last_day, kind=AcademicPeriod.Kind.HOLIDAY)
        findings = [span for span in detected if span.kind in DAY_KINDS]
        profiles = day_profiles(
            readings=frame[frame["meter_id"] == meter.id],
            tz=tz,
            interval_minutes=meter.interval_minutes,
            min_coverage=DayConfig().min_coverage,
        )
        weekend = closed_weekdays(profiles=profiles, holidays=closed, min_separation=DayConfig().min_separation)
        claimed = [
            finding_days(kind=f.kind, start=f.start, end=f.end, tz=tz, closed=closed, weekend=weekend) for f in findings
        ]
        whole_days = [
            Span(f.meter_id, *day_bounds(day, ZoneInfo(tz)), f.kind)
            for f, days in zip(findings, claimed, strict=True)
            for day in days
        ]
        result |= day_scores(detected=whole_days, labels=day_labels, tz=tz)
        events = sum(1 for days in claimed if any(day_labels.get(day) for day in days))
        event_precision = events / len(findings) if findings else 0.0
        recall = result["day_recall"]
        result |= {
            "day_findings": len(findings),
            "day_event_precision": round(event_precision, 4),
            "day_event_f1": round(2 * event_precision * recall / (event_precision + recall), 4)
            if event_precision + recall
            else 0.0,
        }
        others = [span for span in detected if span.kind not in DAY_KINDS]
        every = day_scores(detected=whole_days + others, labels=day_labels, tz=tz)
        result |= {f"{k}_all_findings": v for k, v in every.items()}
        base_days = day_scores(detected=baseline_spans, labels=day_labels, tz=tz)
        result |= {f"baseline_{k}": v for k, v in base_days.items()}
    return result


def _merge(spans: list[Span]) -> list[Span]:
    """Consecutive labelled days are one incident."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.meter_id, last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged
