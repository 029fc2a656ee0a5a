"""Training forecasters, storing forecasts, filling actuals, and the transformer capacity signal."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from customers.models import Transformer
from predictions.forecasting.capacity_alerts import CapacityWarning, capacity_alert_raise
from predictions.forecasting.series import Subject, subject_inputs, subjects_all
from predictions.ml.artifacts import IncompatibleArtifact
from predictions.ml.forecasting import (
    FAMILY,
    DemandForecaster,
    InsufficientHistory,
    ashrae_fit,
)
from predictions.ml.forecasting_backtest import backtest
from predictions.models import Forecast, ModelVersion

HISTORY_DAYS = 400
HOURLY_HORIZON = 72
DAILY_DAYS = 30
EVALUATION_DAYS = 28
GBM_WINDOW_DAYS = 365  # a whole year of weather for the weather booster (180 days missed the other season)
STALE_AFTER = dt.timedelta(days=7)


@dataclass(frozen=True)
class SubjectOutcome:
    """What happened to one subject in a forecast run."""

    subject: str
    status: str  # "ok" | "insufficient_history" | "failed"
    detail: str = ""
    hourly: int = 0
    daily: int = 0


def _now_hour(now: dt.datetime | None) -> dt.datetime:
    return (now or timezone.now()).replace(minute=0, second=0, microsecond=0)


def forecaster_train(*, subject: Subject, now: dt.datetime | None = None) -> ModelVersion:
    """Measure on the last 28 days (day-ahead), fit on all history, store a version; never raises on bad data."""
    end = _now_hour(now)
    start = end - dt.timedelta(days=HISTORY_DAYS)
    started = time.perf_counter()
    inputs = subject_inputs(subject=subject, start=start, end=end, future_hours=HOURLY_HORIZON)
    version = ModelVersion(
        family=ModelVersion.Family.FORECAST,
        subject=subject.key,
        format_version=DemandForecaster.FORMAT_VERSION,
        status=ModelVersion.Status.CANDIDATE,
        parameters={"horizon": HOURLY_HORIZON, "history_days": HISTORY_DAYS, "gbm_window_days": GBM_WINDOW_DAYS},
        train_start=start,
        train_end=end,
    )
    try:
        evaluation = backtest(
            inputs,
            train_until=pd.Timestamp(end - dt.timedelta(days=EVALUATION_DAYS)),
            until=pd.Timestamp(end),
            horizon=24,
            refit_days=EVALUATION_DAYS,
        )
        version.metrics = {"day_ahead": evaluation.scores, "evaluation_days": EVALUATION_DAYS}
        version.fit = ashrae_fit(evaluation.scores) if evaluation.status == "ok" else None
        model = DemandForecaster(horizon=HOURLY_HORIZON, gbm_window_days=GBM_WINDOW_DAYS, origin_hours=(0, 12))
        model.train(inputs, until=pd.Timestamp(end))
    except InsufficientHistory as error:
        version.status = ModelVersion.Status.FAILED
        version.note = f"insufficient history: {error}"
        version.training_seconds = time.perf_counter() - started
        version.save()
        return version
    version.training_seconds = time.perf_counter() - started
    with transaction.atomic():
        version.save()
        name = f"forecast-{subject.kind}-{subject.pk}-v{version.pk}.pkl"
        model.save(name)
        version.make_current(artifact=name)
    return version


def _current_model(*, subject: Subject, now: dt.datetime | None) -> tuple[ModelVersion, DemandForecaster]:
    """The subject's current model, retrained when missing, stale or unreadable."""
    version = ModelVersion.objects.filter(
        family=FAMILY, subject=subject.key, status=ModelVersion.Status.CURRENT
    ).first()
    if version is not None and version.trained_at >= (now or timezone.now()) - STALE_AFTER:
        try:
            return version, DemandForecaster.load(version.artifact)
        except IncompatibleArtifact:
            pass
    version = forecaster_train(subject=subject, now=now)
    if version.status != ModelVersion.Status.CURRENT:
        raise InsufficientHistory(version.note)
    return version, DemandForecaster.load(version.artifact)


def _subject_fields(subject: Subject) -> dict[str, Any]:
    fields: dict[str, Any] = {"subject_kind": subject.kind, "subject_id": subject.pk}
    fields[{"hostel": "hostel_id", "transformer": "transformer_id", "site": "site_id"}[subject.kind]] = subject.pk
    return fields


def _upsert(rows: list[Forecast]) -> None:
    Forecast.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["subject_kind", "subject_id", "horizon", "target"],
        update_fields=["issued_at", "model_version", "yhat", "lower", "upper", "day", "yhat_day_ahead"],
        batch_size=1000,
    )


def forecast_subject(*, subject: Subject, now: dt.datetime | None = None) -> SubjectOutcome:
    """Store hourly forecasts 72 h ahead and daily forecasts 30 days ahead for one subject."""
    origin = _now_hour(now)
    try:
        version, model = _current_model(subject=subject, now=now)
        inputs = subject_inputs(
            subject=subject, start=origin - dt.timedelta(days=14), end=origin, future_hours=HOURLY_HORIZON
        )
        hourly = model.predict(inputs, origin=pd.Timestamp(origin), horizon=HOURLY_HORIZON)
        daily = model.predict_daily(inputs, origin=pd.Timestamp(origin), days=DAILY_DAYS)
    except InsufficientHistory as error:
        return SubjectOutcome(subject.key, "insufficient_history", str(error))
    fields = _subject_fields(subject)
    # Keep the latest forecast issued at least a day ahead: that is the one accuracy is judged on.
    previous = dict(
        Forecast.objects.filter(
            subject_kind=subject.kind, subject_id=subject.pk, horizon=Forecast.Horizon.HOURLY, target__gte=origin
        ).values_list("target", "yhat_day_ahead")
    )
    rows = []
    for row in hourly.to_dict("records"):
        target = pd.Timestamp(row["target"]).to_pydatetime()
        day_ahead = float(row["yhat"]) if target - origin >= dt.timedelta(hours=24) else previous.get(target)
        rows.append(
            Forecast(
                **fields,
                horizon=Forecast.Horizon.HOURLY,
                target=target,
                issued_at=origin,
                model_version=version,
                yhat=float(row["yhat"]),
                lower=float(row["lower"]),
                upper=float(row["upper"]),
                yhat_day_ahead=day_ahead,
            )
        )
    tz = model.timezone
    for row in daily.to_dict("records"):
        start = pd.Timestamp(row["day"]).tz_localize(tz).tz_convert("UTC").to_pydatetime()
        rows.append(
            Forecast(
                **fields,
                horizon=Forecast.Horizon.DAILY,
                target=start,
                day=row["day"],
                issued_at=origin,
                model_version=version,
                yhat=float(row["yhat"]),
                lower=float(row["lower"]),
                upper=float(row["upper"]),
            )
        )
    _upsert(rows)
    return SubjectOutcome(subject.key, "ok", hourly=len(hourly), daily=len(daily))


def transformer_capacity_check(
    *, transformer: Transformer, now: dt.datetime | None = None, share: float | None = None
) -> CapacityWarning | None:
    """A warning when the transformer's stored hourly forecast peak exceeds `share` of its kVA rating."""
    threshold = share if share is not None else float(getattr(settings, "FORECAST_CAPACITY_SHARE", 0.8))
    power_factor = float(getattr(settings, "FORECAST_POWER_FACTOR", 0.95))
    peak = (
        Forecast.objects.filter(
            subject_kind=Forecast.SubjectKind.TRANSFORMER,
            subject_id=transformer.pk,
            horizon=Forecast.Horizon.HOURLY,
            target__gte=_now_hour(now),
        )
        .order_by("-yhat")
        .first()
    )
    if peak is None or not transformer.capacity_kva:
        return None
    peak_kva = peak.yhat / power_factor  # kWh in one hour is the mean kW of that hour
    ratio = peak_kva / transformer.capacity_kva
    if ratio <= threshold:
        return None
    return CapacityWarning(
        transformer_id=transformer.pk,
        transformer_code=transformer.code,
        capacity_kva=float(transformer.capacity_kva),
        peak_kva=round(peak_kva, 2),
        peak_at=peak.target,
        share=round(ratio, 4),
        threshold=threshold,
        model_version_id=peak.model_version_id,
    )


def forecasts_produce(*, now: dt.datetime | None = None, kinds: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Forecast every subject, then raise a capacity alert for each transformer over its threshold (after commit)."""
    outcomes = [
        forecast_subject(subject=subject, now=now)
        for subject in subjects_all()
        if kinds is None or subject.kind in kinds
    ]
    warnings: list[CapacityWarning] = []
    transformer_ids = [s.pk for s in subjects_all() if s.kind == "transformer"]
    for transformer in Transformer.objects.filter(pk__in=transformer_ids):
        warning = transformer_capacity_check(transformer=transformer, now=now)
        if warning is not None:
            warnings.append(warning)
    for warning in warnings:
        transaction.on_commit(partial(capacity_alert_raise, warning))
    return {
        "subjects": len(outcomes),
        "ok": sum(o.status == "ok" for o in outcomes),
        "insufficient_history": [o.subject for o in outcomes if o.status == "insufficient_history"],
        "capacity_warnings": [asdict(w) | {"peak_at": w.peak_at.isoformat()} for w in warnings],
    }


def forecasts_fill_actuals(*, now: dt.datetime | None = None, days: int = 35) -> int:
    """Write actuals into past forecasts that lack them, from rollups; returns rows updated."""
    end = _now_hour(now)
    start = end - dt.timedelta(days=days)
    updated = 0
    for subject in subjects_all():
        pending = Forecast.objects.filter(
            subject_kind=subject.kind, subject_id=subject.pk, actual__isnull=True, target__gte=start, target__lt=end
        )
        if not pending.exists():
            continue
        inputs = subject_inputs(subject=subject, start=start - dt.timedelta(days=1), end=end)
        load = inputs.load
        local = pd.DatetimeIndex(load.index).tz_convert(inputs.timezone)
        grouped = load.groupby(local.tz_localize(None).normalize())
        daily = grouped.sum(min_count=1).where(grouped.count() >= grouped.size() * 0.9)
        changed = []
        for forecast in pending:
            if forecast.horizon == Forecast.Horizon.HOURLY:
                value = load.get(pd.Timestamp(forecast.target))
            else:
                if forecast.day is None or pd.Timestamp(forecast.day) + pd.Timedelta(days=1) > pd.Timestamp(
                    end.astimezone(dt.UTC).date()
                ):
                    continue
                value = daily.get(pd.Timestamp(forecast.day))
            if value is not None and np.isfinite(value):
                forecast.actual = float(value)
                changed.append(forecast)
        Forecast.objects.bulk_update(changed, ["actual"], batch_size=1000)
        updated += len(changed)
    return updated
