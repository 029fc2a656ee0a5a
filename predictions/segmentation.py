"""Segmentation service: customers' hourly profiles from rollups -> CustomerSegmenter -> Segment rows."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from customers.models import Customer, CustomerTruth, Segment
from meters.models import AcademicPeriod, HourlyRollup, Meter, Room
from predictions.forecasting.series import site_weather
from predictions.ml.artifacts import IncompatibleArtifact
from predictions.ml.segmentation import FAMILY, CustomerSegmenter, profile_features
from predictions.models import ModelVersion

WINDOW_DAYS = 91  # a term: enough mild and hot or cold hours to tell habits from weather


def customer_load(*, end: dt.datetime, days: int = WINDOW_DAYS) -> tuple[pd.DataFrame, str, int | None]:
    """Hourly kWh per customer (columns) summed over their meters; plus the time zone and site used."""
    start = end - dt.timedelta(days=days)
    meters = dict(
        Meter.objects.filter(customer__isnull=False).exclude(kind=Meter.Kind.VIRTUAL).values_list("pk", "customer_id")
    )
    grid = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="h", inclusive="left")
    if not meters:
        return pd.DataFrame(index=grid), "UTC", None
    rows = HourlyRollup.objects.filter(meter_id__in=list(meters), hour__gte=start, hour__lt=end).values_list(
        "meter_id", "hour", "kwh"
    )
    frame = pd.DataFrame.from_records(list(rows.iterator(chunk_size=50_000)), columns=["meter", "hour", "kwh"])
    if frame.empty:
        return pd.DataFrame(index=grid), "UTC", None
    frame["customer"] = frame["meter"].map(meters)
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    load = frame.pivot_table(index="hour", columns="customer", values="kwh", aggfunc="sum").reindex(grid)
    site = (
        Meter.objects.filter(customer__isnull=False, hostel__isnull=False)
        .values_list("hostel__site_id", "hostel__site__timezone")
        .first()
    )
    return load, site[1] if site else "UTC", site[0] if site else None


def vacation_hours(*, site_id: int | None, index: pd.DatetimeIndex, timezone: str) -> pd.Series | None:
    """True for the hours of the site's vacations (local days), when residents' habits are not on show."""
    if site_id is None or len(index) == 0:
        return None
    dates = index.tz_convert(timezone).date
    inside = pd.Series(False, index=index)
    periods = AcademicPeriod.objects.filter(site_id=site_id, kind=AcademicPeriod.Kind.VACATION)
    for first, last in periods.values_list("start", "end"):
        inside |= (dates >= first) & (dates <= last)
    return inside


def _previous() -> CustomerSegmenter | None:
    version = ModelVersion.objects.filter(family=FAMILY, status=ModelVersion.Status.CURRENT).first()
    if version is None:
        return None
    try:
        return CustomerSegmenter.load(version.artifact)
    except IncompatibleArtifact:
        return None


def segments_train(*, now: dt.datetime | None = None) -> ModelVersion:
    """Cluster customers' profiles, write Segment rows and each Customer.segment; record the version."""
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    load, tz, site_id = customer_load(end=end)
    load = load.loc[:, load.count() >= 24 * 7] if not load.empty else load
    version = ModelVersion(
        family=FAMILY,
        format_version=CustomerSegmenter.FORMAT_VERSION,
        parameters={"window_days": WINDOW_DAYS},
        train_start=end - dt.timedelta(days=WINDOW_DAYS),
        train_end=end,
    )
    people = dict(Room.objects.filter(customer__isnull=False).values_list("customer_id", "capacity"))
    features = (
        profile_features(
            load,
            timezone=tz,
            temperature=site_weather(site_id=site_id, start=end - dt.timedelta(days=WINDOW_DAYS), end=end),
            people=people,
            exclude=vacation_hours(site_id=site_id, index=pd.DatetimeIndex(load.index), timezone=tz),
        )
        if load.shape[1]
        else pd.DataFrame()
    )
    flags = dict(
        (pk, (solar, ev)) for pk, solar, ev in Customer.objects.values_list("pk", "has_solar", "has_ev_charging")
    )
    if not features.empty:
        features["solar"] = [float(flags.get(c, (False, False))[0]) for c in features.index]
        features["ev"] = [float(flags.get(c, (False, False))[1]) for c in features.index]
    segmenter = CustomerSegmenter()
    try:
        report = segmenter.train(features, previous=_previous())
    except ValueError as error:
        version.status = ModelVersion.Status.FAILED
        version.note = str(error)
        version.training_seconds = time.perf_counter() - started
        version.save()
        return version
    assigned = segmenter.predict(features)
    with transaction.atomic():
        segments = {}
        for profile in segmenter.profiles:
            segments[profile.code], _ = Segment.objects.update_or_create(
                code=profile.code,
                defaults={
                    "name": profile.name,
                    "description": profile.description,
                    "recommendation": profile.recommendation,
                    "expected_saving_pct": profile.expected_saving_pct,
                },
            )
        by_segment: dict[str, list[int]] = {}
        for customer_id, profile in zip(features.index, assigned, strict=True):
            by_segment.setdefault(profile.code, []).append(int(customer_id))
        for code, ids in by_segment.items():
            Customer.objects.filter(pk__in=ids).update(segment=segments[code])
        version.metrics = segments_truth_agreement(features.index, [p.code for p in assigned]) | {
            "silhouette_by_k": report["silhouette"],
            "k": report["k"],
            "sizes": report["sizes"],
            "customers": len(features),
        }
        version.fit = max(report["silhouette"].values()) >= 0.25
        version.training_seconds = time.perf_counter() - started
        version.save()
        name = f"segmentation-v{version.pk}.pkl"
        segmenter.save(name)
        version.make_current(artifact=name)
    return version


def segments_truth_agreement(customer_ids: pd.Index, codes: list[str]) -> dict[str, Any]:
    """Adjusted Rand index against simulated habit groups, where a simulator recorded them (evaluation only)."""
    from sklearn.metrics import adjusted_rand_score

    truth = dict(CustomerTruth.objects.filter(customer_id__in=list(customer_ids)).values_list("customer_id", "habit"))
    pairs = [(truth[c], code) for c, code in zip(customer_ids, codes, strict=True) if c in truth]
    if len(pairs) < 2:
        return {}
    return {
        "ari_vs_truth": round(float(adjusted_rand_score([t for t, _ in pairs], [c for _, c in pairs])), 4),
        "truth_customers": len(pairs),
    }


def segments_summary() -> list[dict[str, Any]]:
    return [dict(row) for row in Segment.objects.values("code", "name", "expected_saving_pct")]
