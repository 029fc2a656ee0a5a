"""Detect anomalies on new intervals of some meters and store them as incidents, idempotently."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction
from django.utils import timezone

from meters.models import Meter
from predictions.detection.baselines import baseline_current, detection_meter_ids, meter_policies
from predictions.detection.days import DayConfig, day_findings, days_found
from predictions.detection.detectors import CONSUMPTION_KINDS, Candidate, DetectorConfig, frame_candidates
from predictions.detection.explain import excess_cost, explain, tariff_for
from predictions.detection.frames import MeterInfo, frame_load, meter_infos
from predictions.detection.handoff import alerts_follow, anomalies_to_alerts
from predictions.detection.imbalance import imbalance_findings
from predictions.detection.scanned import HourScan, hours_summarise, scanned_hours_store
from predictions.ml.anomaly import AnomalyBaseline
from predictions.models import Anomaly, ModelVersion

logger = logging.getLogger(__name__)

CONTEXT_HOURS = 24


@dataclass
class DetectionResult:
    """What one detection run did."""

    readings: int = 0
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    muted: int = 0
    handed_to_alerts: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "readings": self.readings,
            "created": len(self.created),
            "updated": len(self.updated),
            "muted": self.muted,
            "alerts": self.handed_to_alerts,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Found:
    """An incident ready to store."""

    meter_id: int
    kind: str
    start: dt.datetime
    end: dt.datetime
    score: float
    expected_kwh: float
    actual_kwh: float
    detectors: list[str]
    muted: bool
    occupants: float | None = None
    temperature: float | None = None
    excess: list[tuple[dt.datetime, float]] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)


def _nanmean(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else None


def _found_from(candidate: Candidate, frame: pd.DataFrame, expected: np.ndarray, info: MeterInfo) -> Found:
    rows = slice(candidate.start_idx, candidate.end_idx + 1)
    ts = frame["ts"].iloc[rows]
    kwh = frame["kwh"].to_numpy(dtype=float)[rows]
    excess = np.maximum(np.nan_to_num(kwh) - expected[rows], 0.0)
    if candidate.kind not in CONSUMPTION_KINDS:
        excess = np.zeros(len(kwh))  # a faulty meter wastes no energy we can price
    voltage = frame["voltage"].to_numpy(dtype=float)[rows]
    pf = frame["pf"].to_numpy(dtype=float)[rows]
    extra: dict[str, float] = {}
    if candidate.kind == "voltage_sag":
        extra["voltage"] = float(np.nanmin(voltage))
    elif candidate.kind == "voltage_swell":
        extra["voltage"] = float(np.nanmax(voltage))
    elif candidate.kind == "low_power_factor":
        extra["power_factor"] = float(np.nanmin(pf))
    step = dt.timedelta(minutes=info.interval_minutes)
    start, end = ts.iloc[0].to_pydatetime(), ts.iloc[-1].to_pydatetime() + step
    if candidate.missing_intervals:
        start, end = end, end + step * candidate.missing_intervals
    return Found(
        meter_id=candidate.meter_id,
        kind=candidate.kind,
        start=start,
        end=end,
        score=candidate.score,
        expected_kwh=candidate.expected_kwh,
        actual_kwh=candidate.actual_kwh,
        detectors=candidate.detectors,
        muted=candidate.muted,
        occupants=_nanmean(frame["occupants"].to_numpy(dtype=float)[rows]),
        temperature=_nanmean(frame["temp"].to_numpy(dtype=float)[rows]),
        excess=list(zip((t.to_pydatetime() for t in ts), excess.tolist(), strict=True)),
        extra=extra,
    )


def incidents_find(
    *,
    meter_ids: Iterable[int] | None = None,
    start: dt.datetime,
    end: dt.datetime,
    config: DetectorConfig | None = None,
    model: AnomalyBaseline | None = None,
    context_hours: int = CONTEXT_HOURS,
    frame: pd.DataFrame | None = None,
    scans: list[HourScan] | None = None,
    history_end: dt.datetime | None = None,
) -> tuple[list[Found], int]:
    """Incidents touching [start, end) on these meters, found with `context_hours` of history before start.

    A `scans` list receives what the detector expected of each meter hour by hour (for the pages).
    `history_end`, for a scan of history (an import), is where the history's readings end: a day is then
    judged against the weeks around it, not only those before (see days.day_findings).
    """
    config = config or DetectorConfig()
    ids = (
        list(meter_ids)
        if meter_ids is not None
        else detection_meter_ids(since=start - dt.timedelta(hours=context_hours))
    )
    if model is None:
        loaded = baseline_current()
        model = loaded[0] if loaded else AnomalyBaseline()
    infos = meter_infos(meter_ids=ids)
    # Sweeps cover rooms and hostel mains; a caller naming meters (an imported building) gets them all.
    detected = [i for i in ids if i in infos and (meter_ids is not None or infos[i].kind in ("room", "hostel_main"))]
    since_context = pd.Timestamp(start - dt.timedelta(hours=context_hours))
    whole = frame  # the day detector reads weeks before start, not only the context hours
    if frame is None:
        frame = frame_load(meter_ids=detected, start=since_context.to_pydatetime(), end=end)
    else:  # a caller that already loaded the readings (evaluation) passes them in
        keep = frame["meter_id"].isin(detected) & (frame["ts"] >= since_context) & (frame["ts"] < pd.Timestamp(end))
        frame = frame[keep].reset_index(drop=True)
    found: list[Found] = []
    if not frame.empty:
        pred = model.predict(frame, with_iforest=config.use_iforest, peers=config.use_peers)
        policies = meter_policies(meter_ids=detected)
        if scans is not None:
            scans.extend(hours_summarise(frame=frame, pred=pred, config=config, start=start, end=end))
        since = pd.Timestamp(start)
        for candidate in frame_candidates(frame=frame, pred=pred, infos=infos, policies=policies, config=config):
            item = _found_from(candidate, frame, pred.expected, infos[candidate.meter_id])
            if item.end > since:
                found.append(item)
    found = _drop_echoes(found, infos) + _replacement_gaps(meter_ids=detected, start=start, end=end)
    days = day_findings(
        infos=infos, meter_ids=detected, start=start, end=end, frame=whole, config=DayConfig(), until=history_end
    )
    found += days_found(findings=days, policies=meter_policies(meter_ids=detected), make=Found)
    hostels: set[int] = {
        infos[i].hostel_id or 0 for i in detected if infos[i].kind == "hostel_main" and infos[i].hostel_id
    }
    if config.use_rules and hostels:
        policies = meter_policies(meter_ids=detected)
        for finding in imbalance_findings(hostel_ids=hostels, start=start, end=end):
            policy = policies.get(finding.meter_id)
            found.append(
                Found(
                    meter_id=finding.meter_id,
                    kind="main_imbalance",
                    start=finding.start,
                    end=finding.end,
                    score=finding.score,
                    expected_kwh=finding.expected_kwh,
                    actual_kwh=finding.actual_kwh,
                    detectors=["rule_main_imbalance"],
                    muted=bool(policy and "main_imbalance" in policy.suppressed_kinds),
                    excess=[(finding.start, finding.actual_kwh - finding.expected_kwh)],
                )
            )
    return found, len(frame)


def _replacement_gaps(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime) -> list[Found]:
    """A room without a reporting meter between one meter's removal and the next one's installation."""
    found = []
    removed = Meter.objects.filter(
        id__in=meter_ids, kind=Meter.Kind.ROOM, removed_at__isnull=False, removed_at__lt=end
    ).values_list("id", "room_id", "removed_at", "interval_minutes")
    for meter_id, room_id, removed_at, minutes in removed:
        successor = (
            Meter.objects.filter(room_id=room_id, installed_at__gte=removed_at)
            .exclude(pk=meter_id)
            .order_by("installed_at")
            .values_list("installed_at", flat=True)
            .first()
        )
        if successor is None or successor - removed_at < dt.timedelta(minutes=minutes) or successor <= start:
            continue
        found.append(
            Found(
                meter_id=meter_id,
                kind="meter_replacement",
                start=removed_at,
                end=successor,
                score=0.6,
                expected_kwh=0.0,
                actual_kwh=0.0,
                detectors=["rule_replacement_gap"],
                muted=False,
            )
        )
    return found


def _drop_echoes(found: list[Found], infos: dict[int, MeterInfo]) -> list[Found]:
    """A room's excess also shows on its hostel's main meter: keep the room's anomaly, drop the main's echo."""
    rooms_by_hostel: dict[int, list[Found]] = {}
    for item in found:
        info = infos[item.meter_id]
        if info.kind == "room" and info.hostel_id and item.kind in CONSUMPTION_KINDS:
            rooms_by_hostel.setdefault(info.hostel_id, []).append(item)
    kept = []
    for item in found:
        info = infos[item.meter_id]
        if (
            info.kind == "hostel_main"
            and item.kind in CONSUMPTION_KINDS
            and any(
                room.start < item.end and item.start < room.end for room in rooms_by_hostel.get(info.hostel_id or 0, [])
            )
        ):
            continue
        kept.append(item)
    return kept


def anomalies_detect(
    *,
    meter_ids: Iterable[int] | None = None,
    start: dt.datetime,
    end: dt.datetime | None = None,
    config: DetectorConfig | None = None,
    handoff: bool = True,
    history: bool = False,
    history_end: dt.datetime | None = None,
    baseline: tuple[AnomalyBaseline, ModelVersion | None] | None = None,
) -> DetectionResult:
    """Find incidents touching [start, end) on these meters, upsert them, and hand new ones to alerts on commit.

    `history=True` (a scan of stored history): the alerts are marked as found in history, at the event's time.
    A scan of history passes `history_end` (where its readings end) so day findings use the weeks around a day,
    and `baseline`, the model that learned the judged weeks (history_eras), instead of the current one.
    """
    began = time.perf_counter()
    end = end or timezone.now()
    loaded = baseline or baseline_current()
    model, version = (loaded[0], loaded[1]) if loaded else (AnomalyBaseline(), None)
    scans: list[HourScan] = []
    found, readings = incidents_find(
        meter_ids=meter_ids, start=start, end=end, config=config, model=model, scans=scans, history_end=history_end
    )
    result = DetectionResult(readings=readings)
    scanned_hours_store(hours=scans, version=version)
    meters = {
        m.id: m
        for m in Meter.objects.filter(id__in={f.meter_id for f in found}).select_related(
            "customer__tariff", "room__customer__tariff", "hostel__customer__tariff", "room", "hostel__site"
        )
    }
    infos = meter_infos(meter_ids=meters.keys())
    for item in found:
        anomaly, created = _upsert(item=item, meter=meters[item.meter_id], info=infos[item.meter_id], version=version)
        (result.created if created else result.updated).append(anomaly.pk)
        result.muted += anomaly.status == Anomaly.Status.MUTED
    if handoff and result.created:
        created_ids = list(result.created)

        def hand_over() -> None:
            rows = Anomaly.objects.filter(pk__in=created_ids, alerted=False).select_related("meter", "hostel", "room")
            result.handed_to_alerts = anomalies_to_alerts(anomalies=rows, history=history)

        transaction.on_commit(hand_over)
    if handoff and result.updated:
        updated_ids = list(result.updated)

        def follow() -> None:
            alerts_follow(anomalies=Anomaly.objects.filter(pk__in=updated_ids, alerted=True))

        transaction.on_commit(follow)
    result.seconds = time.perf_counter() - began
    return result


def _upsert(*, item: Found, meter: Meter, info: MeterInfo, version: ModelVersion | None) -> tuple[Anomaly, bool]:
    tariff = tariff_for(meter)
    currency = tariff.currency if tariff else (meter.hostel.site.currency if meter.hostel else "")
    cost = excess_cost(tariff=tariff, excess_by_interval=item.excess, tz=info.timezone)
    fields: dict[str, Any] = {
        "hostel_id": meter.hostel_id,
        "room_id": meter.room_id,
        "score": item.score,
        "expected_kwh": round(item.expected_kwh, 4),
        "actual_kwh": round(item.actual_kwh, 4),
        "excess_kwh": round(max(item.actual_kwh - item.expected_kwh, 0.0), 4),
        "excess_cost": cost,
        "currency": currency,
        "model_version": version,
        "detectors": item.detectors,
    }
    interval = dt.timedelta(minutes=info.interval_minutes)
    for attempt in range(3):
        try:
            with transaction.atomic():
                existing = (
                    Anomaly.objects.select_for_update()
                    .filter(meter_id=item.meter_id, kind=item.kind, start__lte=item.end, end__gte=item.start - interval)
                    .order_by("start")
                    .first()
                )
                if existing is not None:
                    start, end = min(existing.start, item.start), max(existing.end, item.end)
                    if item.start > existing.start:  # a continuation: add the new part to what is stored
                        fields["expected_kwh"] = round((existing.expected_kwh or 0) + item.expected_kwh, 4)
                        fields["actual_kwh"] = round((existing.actual_kwh or 0) + item.actual_kwh, 4)
                        fields["excess_kwh"] = round(max(fields["actual_kwh"] - fields["expected_kwh"], 0.0), 4)
                        if cost is not None and existing.excess_cost is not None:
                            fields["excess_cost"] = existing.excess_cost + cost
                    fields["score"] = max(existing.score, item.score)
                    fields["explanation"] = _sentence(item, info, fields, start, end)
                    Anomaly.objects.filter(pk=existing.pk).update(start=start, end=end, **fields)
                    existing.refresh_from_db()
                    return existing, False
                anomaly = Anomaly.objects.create(
                    meter_id=item.meter_id,
                    kind=item.kind,
                    start=item.start,
                    end=item.end,
                    status=Anomaly.Status.MUTED if item.muted else Anomaly.Status.OPEN,
                    dedupe_key=f"{item.meter_id}:{item.kind}:{item.start:%Y%m%dT%H%M}",
                    explanation=_sentence(item, info, fields, item.start, item.end),
                    **fields,
                )
                return anomaly, True
        except IntegrityError:
            # Another run stored the same incident at the same moment: update theirs instead.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _sentence(item: Found, info: MeterInfo, fields: dict[str, Any], start: dt.datetime, end: dt.datetime) -> str:
    cost: Decimal | None = fields["excess_cost"]
    return explain(
        info=info,
        kind=item.kind,
        start=start,
        end=end,
        expected_kwh=fields["expected_kwh"],
        actual_kwh=fields["actual_kwh"],
        occupants=item.occupants,
        temperature=item.temperature,
        cost=cost,
        currency=fields["currency"],
        extra=item.extra,
    )


def detection_sweep(*, now: dt.datetime | None = None, hours: int = 6) -> DetectionResult:
    """Detect over the last hours of every meter: catches batches whose streaming run was missed."""
    now = now or timezone.now()
    return anomalies_detect(start=now - dt.timedelta(hours=hours), end=now)
