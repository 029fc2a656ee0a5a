"""Failure-risk service: transformer histories from rollups and events -> FailureRiskModel -> TransformerRisk."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
from django.db.models import Avg, Max, Min, Sum
from django.utils import timezone

from customers.models import Transformer, TransformerCondition, TransformerEvent
from meters.models import HourlyRollup, Meter
from predictions.forecasting.series import site_weather, transformer_site_id
from predictions.ml.artifacts import IncompatibleArtifact
from predictions.ml.failure import FAMILY, FailureRiskModel, TransformerHistory, snapshot_features, snapshot_labels
from predictions.models import ModelVersion, TransformerRisk

HISTORY_DAYS = 365
SNAPSHOT_DAYS = 1


def transformer_history(*, transformer: Transformer, start: dt.datetime, end: dt.datetime) -> TransformerHistory:
    meters = Meter.objects.filter(transformer=transformer).exclude(kind=Meter.Kind.VIRTUAL)
    upstream = meters.exclude(kind=Meter.Kind.ROOM)
    meters = upstream if upstream.exists() else meters
    rows = (
        HourlyRollup.objects.filter(meter__in=meters, hour__gte=start, hour__lt=end)
        .values("hour")
        .annotate(
            kw=Sum("kwh"),
            voltage_min=Min("voltage_min"),
            voltage_max=Max("voltage_max"),
            power_factor=Avg("power_factor_avg"),
        )
        .order_by("hour")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["hour", "kw", "voltage_min", "voltage_max", "power_factor"])
    grid = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="h", inclusive="left")
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    frame = frame.set_index("hour").reindex(grid).astype(float)
    frame["nominal"] = float(meters.aggregate(v=Avg("nominal_voltage"))["v"] or 230.0)
    temperature = site_weather(site_id=transformer_site_id(transformer.pk), start=start, end=end)
    frame["temp"] = temperature.reindex(grid) if temperature is not None else np.nan
    events = [
        (pd.Timestamp(at), kind)
        for at, kind in TransformerEvent.objects.filter(transformer=transformer).values_list("occurred_at", "kind")
    ]
    readings = TransformerCondition.objects.filter(
        transformer=transformer, measured_at__gte=start, measured_at__lt=end
    ).values_list("measured_at", "top_oil_c", "dissolved_gas_ppm")
    condition = pd.DataFrame.from_records(list(readings), columns=["measured_at", "top_oil_c", "dissolved_gas_ppm"])
    condition["measured_at"] = pd.to_datetime(condition["measured_at"], utc=True)
    return TransformerHistory(
        transformer.pk,
        float(transformer.capacity_kva),
        transformer.installed_year,
        frame,
        events,
        condition.set_index("measured_at").astype(float) if len(condition) else None,
    )


def failure_train(*, now: dt.datetime | None = None) -> ModelVersion:
    """Weekly snapshots over the last year for every transformer; fit, calibrate, score, store."""
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=HISTORY_DAYS + 30)
    started = time.perf_counter()
    frames, labels, dates = [], [], []
    snapshot_dates = pd.date_range(
        pd.Timestamp(start).normalize() + pd.Timedelta(days=30),
        pd.Timestamp(end).normalize() - pd.Timedelta(days=30),
        freq=f"{SNAPSHOT_DAYS}D",
    )
    for transformer in Transformer.objects.exclude(status=Transformer.Status.RETIRED):
        # 120 days more: the condition features of the first snapshots fit top oil on the days before them.
        history = transformer_history(transformer=transformer, start=start - dt.timedelta(days=120), end=end)
        first = history.hourly["kw"].first_valid_index()
        if first is None:
            continue
        # Snapshots need 30 days of load behind them and 30 days of known future after them.
        usable = snapshot_dates[snapshot_dates >= pd.Timestamp(str(first)) + pd.Timedelta(days=30)]
        if len(usable) == 0:
            continue
        frames.append(snapshot_features(history, usable))
        labels.append(snapshot_labels(history, usable))
        dates.append(usable.to_numpy())
    version = ModelVersion(
        family=FAMILY,
        format_version=FailureRiskModel.FORMAT_VERSION,
        parameters={"history_days": HISTORY_DAYS, "snapshot_days": SNAPSHOT_DAYS, "horizon_days": 30},
        train_start=start,
        train_end=end,
    )
    model = FailureRiskModel()
    try:
        if not frames:
            raise ValueError("no transformers")
        version.metrics = model.train(pd.concat(frames), np.concatenate(labels), np.concatenate(dates))
    except ValueError as error:
        version.status = ModelVersion.Status.FAILED
        version.note = str(error)
        version.training_seconds = time.perf_counter() - started
        version.save()
        return version
    auc = version.metrics.get("roc_auc")
    version.fit = auc is not None and auc >= 0.7
    version.training_seconds = time.perf_counter() - started
    version.save()
    name = f"failure-v{version.pk}.pkl"
    model.save(name)
    version.make_current(artifact=name)
    return version


def failure_risks_compute(*, now: dt.datetime | None = None) -> dict[str, object]:
    """Score every in-service transformer with the current model (training one if none is usable)."""
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    version = ModelVersion.objects.filter(family=FAMILY, status=ModelVersion.Status.CURRENT).first()
    model: FailureRiskModel | None = None
    if version is not None:
        try:
            model = FailureRiskModel.load(version.artifact)
        except IncompatibleArtifact:
            model = None
    if model is None:
        version = failure_train(now=now)
        if version.status != ModelVersion.Status.CURRENT:
            return {"status": "no_model", "detail": version.note, "scored": 0}
        model = FailureRiskModel.load(version.artifact)
    rows = []
    for transformer in Transformer.objects.exclude(status=Transformer.Status.RETIRED):
        # 121 days: the condition features fit each unit's top oil on the 120 days before the snapshot.
        history = transformer_history(transformer=transformer, start=end - dt.timedelta(days=121), end=end)
        features = snapshot_features(history, pd.DatetimeIndex([pd.Timestamp(end).normalize()]))
        ((probability, factors),) = model.predict(features)
        rows.append(
            TransformerRisk(
                transformer=transformer,
                model_version=version,
                probability=probability,
                factors=factors,
                features={k: (None if pd.isna(v) else float(v)) for k, v in features.iloc[0].items()},
                computed_at=end,
            )
        )
    TransformerRisk.objects.bulk_create(rows)
    return {"status": "ok", "scored": len(rows)}
