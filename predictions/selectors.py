"""Reads for pages and APIs: every one is scoped by `visible_to(user)`."""

from __future__ import annotations

import contextlib
import datetime as dt
import statistics
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from alerts.models import Alert, AlertKind
from customers.models import Customer, Segment
from meters.models import Incident, Meter
from meters.selectors.accounts import customers_visible_to, transformers_visible_to
from predictions.ml.artifacts import artifact_problem
from predictions.models import Anomaly, Forecast, JobRun, ModelVersion, TransformerRisk


def forecasts_for_user(
    *,
    user: Any,
    subject_kind: str | None = None,
    subject_id: int | None = None,
    horizon: str = Forecast.Horizon.HOURLY,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> QuerySet[Forecast]:
    """Forecasts (with actuals where known) the user may see, oldest target first."""
    forecasts = Forecast.objects.visible_to(user).filter(horizon=horizon)
    if subject_kind:
        forecasts = forecasts.filter(subject_kind=subject_kind)
    if subject_id is not None:
        forecasts = forecasts.filter(subject_id=subject_id)
    if start:
        forecasts = forecasts.filter(target__gte=start)
    if end:
        forecasts = forecasts.filter(target__lt=end)
    return forecasts.order_by("target")


def segments_for_user(*, user: Any) -> QuerySet[Segment]:
    """Segments with at least one customer the user may see (all segments for managers and admins)."""
    customers = customers_visible_to(user)
    return Segment.objects.filter(customers__in=customers).distinct().order_by("name")


def customers_with_segments_for_user(*, user: Any) -> QuerySet[Customer]:
    return customers_visible_to(user).select_related("segment").order_by("account_code")


def transformer_risks_for_user(*, user: Any) -> list[TransformerRisk]:
    """The latest risk score of each transformer the user may see, highest first."""
    visible = transformers_visible_to(user).values("pk")
    latest: dict[int, TransformerRisk] = {}
    for risk in TransformerRisk.objects.filter(transformer__in=visible).order_by("transformer_id", "-computed_at"):
        latest.setdefault(risk.transformer_id, risk)
    return sorted(latest.values(), key=lambda r: -r.probability)


def job_runs_recent(*, job: str | None = None, limit: int = 50) -> QuerySet[JobRun]:
    runs = JobRun.objects.all()
    if job:
        runs = runs.filter(job=job)
    return runs[:limit]


def model_versions_queryset() -> QuerySet[ModelVersion]:
    """Every trained version with its metrics (a staff and manager view: versions span hostels)."""
    return ModelVersion.objects.all()


def model_artifacts_problems() -> tuple[int, list[str]]:
    """How many versions are current, and what is wrong with each current version's artifact file."""
    current = ModelVersion.objects.filter(status=ModelVersion.Status.CURRENT).order_by("family", "subject", "pk")
    rows = list(current.values_list("pk", "family", "subject", "artifact"))
    problems = []
    for pk, family, subject, artifact in rows:
        label = f"{family} version {pk}" + (f" ({subject})" if subject else "")
        if not artifact:
            problems.append(f"{label}: records no artifact file")
        elif problem := artifact_problem(artifact):
            problems.append(f"{label}: {artifact} {problem}")
    return len(rows), problems


def transformer_risks_latest_for_user(*, user: Any) -> QuerySet[TransformerRisk]:
    """The latest risk row of each transformer the user may see, as a queryset (for paging)."""
    visible = transformers_visible_to(user).values("pk")
    newest = (
        TransformerRisk.objects.filter(transformer_id=OuterRef("transformer_id"))
        .order_by("-computed_at", "-id")
        .values("id")[:1]
    )
    return TransformerRisk.objects.filter(transformer__in=visible, id=Subquery(newest)).select_related("transformer")


def anomalies_queryset_for_user(*, user: Any) -> QuerySet[Anomaly]:
    """Detected incidents of the meters the user may see."""
    return Anomaly.objects.visible_to(user).select_related("meter", "room", "hostel")


def meter_ids_visible(*, user: Any, meter_ids: list[int]) -> list[int]:
    """The subset of these meters the user may see."""
    return list(Meter.objects.visible_to(user).filter(id__in=meter_ids).values_list("id", flat=True))


def detection_kpis_for_user(*, user: Any, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Detection quality in [start, end) over the user's meters.

    Against known incidents (the simulator's ground truth, or incidents recorded by operators):
    precision, recall, F1, false alerts per meter-month and minutes to detect. From alerts: the
    share confirmed true by wardens, and the minutes from an incident's start to its alert.
    """
    # Imported here: the detection package loads pandas and scikit-learn, too slow for URL loading.
    from predictions.detection.evaluation import Span, score_spans

    meters = Meter.objects.visible_to(user)
    detected = [
        Span(meter_id=a.meter_id, start=a.start, end=a.end, kind=a.kind)
        for a in Anomaly.objects.visible_to(user)
        .filter(start__lt=end, end__gt=start)
        .exclude(status=Anomaly.Status.MUTED)
        .only("meter_id", "start", "end", "kind")
    ]
    truth = [
        Span(meter_id=i.meter_id, start=i.start, end=i.end, kind=i.kind)
        for i in Incident.objects.visible_to(user)
        .filter(start__lt=end, end__gt=start)
        .exclude(kind=Incident.Kind.INTERVENTION)  # a saving, not an anomaly to detect
        .only("meter_id", "start", "end", "kind")
    ]
    main_of = dict(
        meters.filter(kind=Meter.Kind.ROOM, hostel__isnull=False)
        .annotate(
            main=Subquery(Meter.objects.filter(hostel_id=OuterRef("hostel_id"), kind="hostel_main").values("id")[:1])
        )
        .exclude(main__isnull=True)
        .values_list("id", "main")
    )
    score = score_spans(detected=detected, truth=truth, meters=meters.count(), window=(start, end), main_of=main_of)
    alerts = Alert.objects.visible_to(user).filter(kind=AlertKind.ANOMALY, opened_at__gte=start, opened_at__lt=end)
    verdicts = list(alerts.exclude(is_true_alarm__isnull=True).values_list("is_true_alarm", flat=True))
    delays = []
    for opened_at, payload in alerts.values_list("opened_at", "source_payload"):
        began = (payload or {}).get("start") if isinstance(payload, dict) else None
        if began:
            with contextlib.suppress(ValueError):
                delays.append((opened_at - dt.datetime.fromisoformat(began)).total_seconds() / 60)
    return {
        "start": start,
        "end": end,
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.f1,
        "false_alerts_per_meter_month": score.false_alerts_per_meter_month,
        "median_minutes_to_detect": score.median_minutes_to_detect,
        "incidents": score.incidents,
        "anomalies": len(detected),
        "true_alarms": score.true_alarms,
        "false_alarms": score.false_alarms,
        "alerts": alerts.count(),
        "alerts_with_verdict": len(verdicts),
        "confirmed_share": sum(verdicts) / len(verdicts) if verdicts else None,
        "median_minutes_to_alert": statistics.median(delays) if delays else None,
    }
