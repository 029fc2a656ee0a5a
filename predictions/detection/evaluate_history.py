"""Score a scan of stored history as the first run makes it, against the simulator's incidents.

The scan's span and meters are the first run's (FIRST_RUN_HISTORY_DAYS up to the newest reading, room
and hostel main meters, a chunk of meters at a time), judged slice by slice as `history_scan_step`
judges them; findings are matched to incidents as `evaluate_detector --simulated` matches them
(evaluation.score_spans). Nothing is stored but a scan row (done) and the era baselines it trains.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from django.conf import settings
from django.db.models import Max, Min

from meters.models import Incident, Reading
from predictions.detection.baselines import detected_meters
from predictions.detection.evaluate_run import _main_of
from predictions.detection.evaluation import Span, score_spans
from predictions.detection.history import CHUNK_METERS, SLICE, _scan_order
from predictions.detection.history_eras import Era, era_baseline, history_eras
from predictions.detection.services import incidents_find
from predictions.models import HistoryScan


def _scan(*, start: dt.datetime, end: dt.datetime, meter_ids: list[int], eras: bool) -> HistoryScan:
    """A scan row for the evaluation (its era baselines are stored as a scan's would be)."""
    scan = HistoryScan.objects.create(
        key=f"evaluation:{uuid.uuid4().hex}",
        reason=HistoryScan.Reason.FIRST_RUN,
        start=start,
        end=end,
        meter_ids=meter_ids,
        meters_total=len(meter_ids),
        status=HistoryScan.Status.DONE,
    )
    if not eras:
        scan.eras = [Era(start, end).row()]
        HistoryScan.objects.filter(pk=scan.pk).update(eras=scan.eras)
    return scan


def evaluate_history_scan(*, eras: bool = True, days: int | None = None) -> dict[str, Any]:
    """Precision and recall of the first run's history scan; false findings by kind and by month."""
    bounds = Reading.objects.aggregate(first=Min("timestamp"), last=Max("timestamp"))
    if bounds["first"] is None or not Incident.objects.exists():
        raise ValueError("no readings or no ground-truth incidents in the database: run simulate_campus first")
    end = bounds["last"] + dt.timedelta(minutes=15)
    start = max(bounds["first"], end - dt.timedelta(days=days or settings.FIRST_RUN_HISTORY_DAYS))
    ids = _scan_order(list(detected_meters().values_list("pk", flat=True)))
    scan = _scan(start=start, end=end, meter_ids=ids, eras=eras)
    plan = history_eras(scan=scan)
    detected: list[Span] = []
    era_of: list[int] = []
    muted = 0
    for index, era in enumerate(plan):
        baseline = era_baseline(scan=scan, era=era)
        plan[index] = Era(era.start, era.end, baseline[1].pk if baseline and baseline[1] else None, era.own)
        model = baseline[0] if baseline else None
        for first in range(0, len(ids), CHUNK_METERS):
            meters = ids[first : first + CHUNK_METERS]
            cursor = era.start
            while cursor < era.end:
                stop = min(cursor + SLICE, era.end)
                found, _ = incidents_find(meter_ids=meters, start=cursor, end=stop, model=model, history_end=end)
                muted += sum(1 for f in found if f.muted)
                kept = [Span(f.meter_id, f.start, f.end, f.kind) for f in found if not f.muted]
                detected += kept
                era_of += [index] * len(kept)
                cursor = stop
    truth = [
        Span(i.meter_id, i.start, i.end, i.kind)
        for i in Incident.objects.filter(meter_id__in=ids, end__gt=start, start__lt=end).exclude(
            kind=Incident.Kind.INTERVENTION
        )
    ]
    main_of = _main_of()
    score = score_spans(detected=detected, truth=truth, meters=len(ids), window=(start, end), main_of=main_of)
    per_era = []
    for index, era in enumerate(plan):
        spans = [span for span, e in zip(detected, era_of, strict=True) if e == index]
        inside = [t for t in truth if t.end > era.start and t.start < era.end]
        s = score_spans(detected=spans, truth=inside, meters=len(ids), window=(era.start, era.end), main_of=main_of)
        per_era.append(
            {
                "start": era.start.isoformat(),
                "end": era.end.isoformat(),
                "model_version": era.version_id,
                "precision": s.precision,
                "recall": s.recall,
                "false_alarms": s.false_alarms,
                "incidents": s.incidents,
            }
        )
    false_by_month: Counter[str] = Counter()
    for span in detected:
        if not any(_matches(span, t, main_of) for t in truth):
            false_by_month[f"{span.start:%Y-%m} {span.kind}"] += 1
    return score.as_dict() | {
        "eras": eras,
        "window": [start.isoformat(), end.isoformat()],
        "meters": len(ids),
        "muted": muted,
        "per_era": per_era,
        "false_alarms_by_month_and_kind": dict(sorted(false_by_month.items())),
        "scan_chunk_meters": CHUNK_METERS,
        "scan": scan.pk,
    }


def _matches(a: Span, t: Span, main_of: dict[int, int]) -> bool:
    same = a.meter_id == t.meter_id or main_of.get(t.meter_id) == a.meter_id
    tolerance = dt.timedelta(minutes=15)
    return same and a.start < t.end + tolerance and t.start < a.end + tolerance
