"""Reads for pages and APIs: every one is scoped by `visible_to(user)`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from customers.models import Customer, Segment, Transformer
from predictions.models import Forecast, JobRun, TransformerRisk


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
    customers = Customer.objects.visible_to(user)
    return Segment.objects.filter(customers__in=customers).distinct().order_by("name")


def customers_with_segments_for_user(*, user: Any) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).select_related("segment").order_by("account_code")


def transformer_risks_for_user(*, user: Any) -> list[TransformerRisk]:
    """The latest risk score of each transformer the user may see, highest first."""
    visible = Transformer.objects.visible_to(user).values("pk")
    latest: dict[int, TransformerRisk] = {}
    for risk in TransformerRisk.objects.filter(transformer__in=visible).order_by("transformer_id", "-computed_at"):
        latest.setdefault(risk.transformer_id, risk)
    return sorted(latest.values(), key=lambda r: -r.probability)


def job_runs_recent(*, job: str | None = None, limit: int = 50) -> QuerySet[JobRun]:
    runs = JobRun.objects.all()
    if job:
        runs = runs.filter(job=job)
    return runs[:limit]
