"""The anomaly baseline's lifecycle: train, version, promote if as good, load or retrain, drift, feedback."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from meters.models import Meter
from predictions.detection.days import DayConfig, building_meter_ids, day_findings
from predictions.detection.detectors import MeterPolicy
from predictions.detection.frames import frame_load, meter_infos
from predictions.ml.anomaly import HOLDOUT_DAYS, AnomalyBaseline
from predictions.ml.artifacts import IncompatibleArtifact
from predictions.models import DetectorFeedback, MeterBaseline, ModelVersion

logger = logging.getLogger(__name__)

FAMILY = ModelVersion.Family.ANOMALY
SUBJECT = ""  # one model for all meters, with meter-level features and scales
DETECTED_KINDS = (Meter.Kind.ROOM, Meter.Kind.HOSTEL_MAIN)
# Plus feeders that are a site's building (`detected_meters`): what `import_readings --create-meters` makes of an
# imported building. A feeder with no hostel (another customer on a transformer) has no site's weather or local
# time to be judged by, and stays out as before.


def detected_meters() -> QuerySet[Meter]:
    """The meters anomaly detection watches: rooms, hostel mains, and feeders in a hostel (imported buildings)."""
    return Meter.objects.filter(Q(kind__in=DETECTED_KINDS) | Q(kind=Meter.Kind.FEEDER, hostel__isnull=False))


_loaded: dict[int, AnomalyBaseline] = {}
# Training reads at most this much history, ending at the newest reading: a season and more, as the
# demo campus holds. Without a bound the first detection on an estate with a year of readings
# (the large campus: 35 million) loaded all of it into the worker (measured: past 4.7 GB and rising).
TRAIN_WINDOW_DAYS = 120


def detection_meter_ids(*, since: dt.datetime | None = None) -> list[int]:
    """The detected meters in service (or removed after `since`, so their last readings are checked)."""
    in_service = Q(removed_at__isnull=True) | (Q(removed_at__gte=since) if since else Q(pk__in=[]))
    return list(detected_meters().filter(in_service).values_list("id", flat=True))


def _holdout_score(
    model: AnomalyBaseline, *, meter_ids: list[int], start: dt.datetime, end: dt.datetime
) -> float | None:
    """Hourly-ish error of a model on a recent window: median absolute relative residual (lower is better)."""
    frame = frame_load(meter_ids=meter_ids, start=start, end=end)
    frame = frame[frame["kwh"] > 0]
    if frame.empty:
        return None
    pred = model.predict(frame, with_iforest=False)
    kwh = frame["kwh"].to_numpy(dtype=float)
    return float(np.median(np.abs(kwh - pred.expected) / np.maximum(pred.denom, 1e-9)))


def baseline_train(
    *,
    meter_ids: Iterable[int] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    promote: bool = True,
    n_estimators: int = 120,
    keep_loaded: bool = True,
) -> ModelVersion:
    """Train a new version on the meters' history, store it, and make it current if it is at least as good."""
    ids = list(meter_ids) if meter_ids is not None else detection_meter_ids()
    if start is None:
        start = _window_start(meter_ids=ids, end=end)
    frame = frame_load(meter_ids=ids, start=start, end=end)
    model = AnomalyBaseline(n_estimators=n_estimators)
    known = anomalies_known(meter_ids=ids, start=start, end=end)
    unlike = unlike_days_found(frame=frame, meter_ids=ids)
    version = ModelVersion.objects.create(
        family=FAMILY, subject=SUBJECT, format_version=AnomalyBaseline.FORMAT_VERSION, parameters=model.params
    )
    try:
        metrics = model.train(frame, known=known, unlike_days=unlike)
    except ValueError as error:
        version.status = ModelVersion.Status.FAILED
        version.note = str(error)
        version.save(update_fields=["status", "note"])
        return version
    name = f"anomaly-baseline-v{version.pk}.bin"
    model.save(name)
    if keep_loaded:  # a model for a scan of history only (history_eras) need not stay in memory
        _loaded[version.pk] = model
    version.metrics = metrics | {
        "per_meter": {
            str(m): {
                "tier": s.tier,
                "cv_rmse": s.cv_rmse,
                "nmbe": s.nmbe,
                "fit": s.fit,
                "gate_cv_rmse": s.gate_cv_rmse,
                "gate_nmbe": s.gate_nmbe,
                "rooms_fit": s.rooms_fit,
            }
            for m, s in model.meters.items()
        }
    }
    version.fit = metrics["fit_meters"] >= 0.5 * max(metrics["meters"], 1)
    version.train_start, version.train_end = model.train_start, model.train_end
    version.artifact = name
    version.training_seconds = model.training_seconds
    version.save()
    if promote:
        baseline_promote(version=version, model=model, meter_ids=ids)
    return version


def unlike_days_found(
    *, frame: pd.DataFrame, meter_ids: list[int], start: dt.datetime | None = None
) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """(meter, start, end) of the buildings' days from `start` (default: the held-back week) to the end of
    `frame` that ran like the other kind of day: a closure no calendar knew, a weekend left on.

    As the day detector judges them in a scan of history. Training leaves them out of the building's
    spreads and fitness gate (`AnomalyBaseline.train`), and an era's own gate out of its figures.
    """
    if frame.empty:
        return []
    end = pd.Timestamp(frame["ts"].max()).to_pydatetime() + dt.timedelta(hours=1)
    start = start or end - dt.timedelta(days=HOLDOUT_DAYS + 1)
    infos = meter_infos(meter_ids=meter_ids)
    buildings = building_meter_ids(infos=infos)
    if not buildings:  # rooms only: nothing to judge, and no copy of the readings
        return []
    # The buildings' readings only, from as far back as their usual days are learnt: not every room's.
    since = pd.Timestamp(start - dt.timedelta(days=DayConfig().history_days + 1))
    readings = frame.loc[frame["meter_id"].isin(buildings) & (frame["ts"] >= since), ["meter_id", "ts", "kwh"]]
    found = day_findings(infos=infos, meter_ids=buildings, start=start, end=end, frame=readings, until=end)
    return [(f.meter_id, f.start, f.end) for f in found]


def anomalies_known(
    *, meter_ids: list[int], start: dt.datetime | None, end: dt.datetime | None
) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """(meter, start, end) of the anomalies found on these meters in the window, not dismissed or muted.

    The baseline leaves them out of each meter's spreads and centres: an incident is not the meter's usual.
    A finding marked a false alarm is the meter's usual, and a muted one was never claimed.
    """
    from predictions.models import Anomaly

    rows = Anomaly.objects.filter(meter_id__in=meter_ids).exclude(
        status__in=[Anomaly.Status.DISMISSED, Anomaly.Status.MUTED]
    )
    if start is not None:
        rows = rows.filter(end__gt=start)
    if end is not None:
        rows = rows.filter(start__lt=end)
    return list(rows.values_list("meter_id", "start", "end"))


def _window_start(*, meter_ids: list[int], end: dt.datetime | None) -> dt.datetime | None:
    """TRAIN_WINDOW_DAYS before `end`, or before the newest reading of these meters."""
    from django.db.models import Max

    if end is None:  # kept by ingestion (meters_touch): no scan of the readings
        end = Meter.objects.filter(id__in=meter_ids).aggregate(last=Max("last_reading_at"))["last"]
    return None if end is None else end - dt.timedelta(days=TRAIN_WINDOW_DAYS)


def baseline_promote(*, version: ModelVersion, model: AnomalyBaseline, meter_ids: list[int]) -> bool:
    """Make `version` current if it is at least as good as the current one on the held-back recent window."""
    current = ModelVersion.objects.filter(family=FAMILY, subject=SUBJECT, status=ModelVersion.Status.CURRENT).first()
    better = True
    if current is not None and model.train_end is not None:
        window_end = model.train_end + dt.timedelta(hours=1)
        window_start = window_end - dt.timedelta(days=HOLDOUT_DAYS)
        try:
            old = _model_of(current)
        except IncompatibleArtifact:
            old = None
        if old is not None:
            new_score = _holdout_score(model, meter_ids=meter_ids, start=window_start, end=window_end)
            old_score = _holdout_score(old, meter_ids=meter_ids, start=window_start, end=window_end)
            version.metrics = version.metrics | {"holdout_score": new_score, "current_holdout_score": old_score}
            better = new_score is None or old_score is None or new_score <= old_score * 1.001
    with transaction.atomic():
        if not better:
            version.status = ModelVersion.Status.REJECTED
            version.note = "Worse than the current version on the held-back recent window."
            version.save(update_fields=["status", "note", "metrics"])
            return False
        if current is not None:
            ModelVersion.objects.filter(pk=current.pk).update(status=ModelVersion.Status.RETIRED)
        version.status = ModelVersion.Status.CURRENT
        version.save(update_fields=["status", "metrics"])
        _baselines_record(version=version, model=model)
    return True


def _baselines_record(*, version: ModelVersion, model: AnomalyBaseline) -> None:
    for meter_id, stats in model.meters.items():
        MeterBaseline.objects.update_or_create(
            meter_id=meter_id,
            defaults={
                "model_version": version,
                "tier": stats.tier,
                "cv_rmse": stats.cv_rmse,
                "nmbe": stats.nmbe,
                "fit": stats.fit,
            },
        )


def _model_of(version: ModelVersion) -> AnomalyBaseline:
    model = _loaded.get(version.pk)
    if model is None:
        model = AnomalyBaseline.load(version.artifact)
        _loaded.clear()  # keep one model per process
        _loaded[version.pk] = model
    return model


def baseline_current(*, retrain: bool = True) -> tuple[AnomalyBaseline, ModelVersion] | None:
    """The current model; a missing or incompatible artifact means retrain, never a crash."""
    version = ModelVersion.objects.filter(family=FAMILY, subject=SUBJECT, status=ModelVersion.Status.CURRENT).first()
    if version is not None:
        try:
            return _model_of(version), version
        except IncompatibleArtifact as error:
            logger.warning("anomaly baseline v%s unusable (%s); retraining", version.pk, error)
            ModelVersion.objects.filter(pk=version.pk).update(
                status=ModelVersion.Status.RETIRED, note=f"Artifact unusable: {error}"
            )
    if not retrain:
        return None
    version = baseline_train()
    if version.status != ModelVersion.Status.CURRENT:
        return None
    return _model_of(version), version


def meter_policies(*, meter_ids: Iterable[int]) -> dict[int, MeterPolicy]:
    return {
        row.meter_id: MeterPolicy(
            fit=row.fit, threshold_boost=row.threshold_boost, suppressed_kinds=frozenset(row.suppressed_kinds)
        )
        for row in MeterBaseline.objects.filter(meter_id__in=list(meter_ids))
    }


def detector_feedback_record(
    *,
    meter_id: int,
    kind: str,
    true_alarm: bool,
    at: dt.datetime | None = None,
    anomaly_id: int | None = None,
    source: str = "",
) -> DetectorFeedback:
    """Store a warden's verdict (idempotent per source) and re-learn that meter's thresholds."""
    defaults = {
        "meter_id": meter_id,
        "kind": kind,
        "true_alarm": true_alarm,
        "at": at or timezone.now(),
        "anomaly_id": anomaly_id,
    }
    if source:
        feedback, _ = DetectorFeedback.objects.update_or_create(source=source, defaults=defaults)
    else:
        feedback = DetectorFeedback.objects.create(**defaults)
    if anomaly_id is not None:
        from predictions.models import Anomaly

        Anomaly.objects.filter(pk=anomaly_id).update(
            status=Anomaly.Status.CONFIRMED if true_alarm else Anomaly.Status.DISMISSED
        )
    thresholds_learn(meter_ids=[meter_id])
    return feedback


def thresholds_learn(*, meter_ids: Iterable[int], days: int = 90) -> int:
    """Raise a meter's threshold by one sigma per net false alarm (at most 3), and mute a kind after 3 false, 0 true."""
    since = timezone.now() - dt.timedelta(days=days)
    changed = 0
    for meter_id in meter_ids:
        rows = list(DetectorFeedback.objects.filter(meter_id=meter_id, at__gte=since).values_list("kind", "true_alarm"))
        false = sum(1 for _, t in rows if not t)
        true = sum(1 for _, t in rows if t)
        by_kind: dict[str, list[bool]] = {}
        for kind, verdict in rows:
            by_kind.setdefault(kind, []).append(verdict)
        suppressed = sorted(k for k, v in by_kind.items() if v.count(False) >= 3 and not any(v))
        MeterBaseline.objects.update_or_create(
            meter_id=meter_id,
            defaults={"threshold_boost": float(min(3, max(0, false - true))), "suppressed_kinds": suppressed},
        )
        changed += 1
    return changed


def baseline_drift_check(
    *, days: int = 7, now: dt.datetime | None = None, limit: float = 1.5
) -> dict[str, float | int | bool]:
    """Median robust z of recent residuals per meter; drift when a fifth of meters sit beyond `limit`."""
    loaded = baseline_current(retrain=False)
    if loaded is None:
        return {"meters": 0, "drifting": 0, "drift": True}
    model, _ = loaded
    end = now or timezone.now()
    ids = detection_meter_ids()
    frame = frame_load(meter_ids=ids, start=end - dt.timedelta(days=days), end=end)
    frame = frame[frame["kwh"] > 0].reset_index(drop=True)
    if frame.empty:
        return {"meters": 0, "drifting": 0, "drift": False}
    pred = model.predict(frame, with_iforest=False)
    medians = frame.assign(z=pred.z).groupby("meter_id")["z"].median()
    for meter_id, value in medians.items():
        MeterBaseline.objects.update_or_create(meter_id=int(str(meter_id)), defaults={"residual_drift": float(value)})
    drifting = int((medians.abs() > limit).sum())
    return {"meters": len(medians), "drifting": drifting, "drift": drifting >= 0.2 * len(medians)}


def feedback_sync_from_alerts() -> int:
    """Copy wardens' true/false-alarm verdicts on alerts raised from anomalies into detector feedback."""
    try:
        from alerts.models import Alert
    except ImportError:  # the alerts app is optional for detection
        return 0
    synced = 0
    rows = Alert.objects.filter(is_true_alarm__isnull=False, meter__isnull=False, source_payload__has_key="anomaly_id")
    known = set(DetectorFeedback.objects.filter(source__startswith="alert:").values_list("source", flat=True))
    for alert in rows.only("id", "meter_id", "is_true_alarm", "feedback_at", "source_payload"):
        source = f"alert:{alert.pk}"
        if source in known:
            continue
        payload = alert.source_payload or {}
        detector_feedback_record(
            meter_id=alert.meter_id or 0,
            kind=str(payload.get("kind", "high_consumption")),
            true_alarm=bool(alert.is_true_alarm),
            at=alert.feedback_at,
            anomaly_id=payload.get("anomaly_id"),
            source=source,
        )
        synced += 1
    return synced
