"""System health for administrators: schedules, queue, data freshness, quarantine, model versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from meters.models import Meter, QuarantinedReading
from predictions.models import HistoryScan, InitialTraining, ModelVersion


@dataclass(frozen=True)
class ScheduleStatus:
    name: str
    task: str
    enabled: bool
    every: str
    last_run_at: dt.datetime | None
    next_run_at: dt.datetime | None
    total_runs: int


def schedules_status(*, now: dt.datetime | None = None) -> list[ScheduleStatus]:
    """Every periodic task with its last run and an estimate of its next one."""
    now = now or timezone.now()
    rows = []
    for task in PeriodicTask.objects.select_related("interval", "crontab", "solar", "clocked").order_by("name"):
        schedule = task.schedule
        last = task.last_run_at
        next_run: dt.datetime | None = None
        if task.enabled:
            try:
                remaining = schedule.remaining_estimate(last or now)
                next_run = max((last or now) + remaining, now)
            except Exception:  # a clocked or solar schedule without a usable estimate
                next_run = None
        rows.append(
            ScheduleStatus(
                name=task.name,
                task=task.task,
                enabled=task.enabled,
                every=str(task.interval or task.crontab or task.solar or task.clocked or ""),
                last_run_at=last,
                next_run_at=next_run,
                total_runs=task.total_run_count,
            )
        )
    return rows


# kombu's Redis transport keeps a queue's prioritised messages in lists of their own beside it.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each Celery queue (settings.CELERY_TASK_QUEUES); None where it cannot be read."""
    names = list(settings.CELERY_TASK_QUEUES)
    if settings.EMBEDDED:
        from kombu.transport.memory import Channel

        return {name: (Channel.queues[name].qsize() if name in Channel.queues else 0) for name in names}
    try:
        from django_redis import get_redis_connection

        client = get_redis_connection("default")
        pipe = client.pipeline()
        for name in names:
            for suffix in _PRIORITY_SUFFIXES:
                pipe.llen(name + suffix)
        counts = pipe.execute()
    except Exception:  # Redis down: the health check reports it
        return dict.fromkeys(names)
    step = len(_PRIORITY_SUFFIXES)
    return {name: int(sum(counts[i * step : (i + 1) * step])) for i, name in enumerate(names)}


@dataclass(frozen=True)
class MeterFreshness:
    serial: str
    kind: str
    hostel: str | None
    room: str | None
    interval_minutes: int
    last_reading_at: dt.datetime | None
    late_by: dt.timedelta | None

    @property
    def stale(self) -> bool:
        return self.late_by is None or self.late_by > dt.timedelta(minutes=3 * self.interval_minutes)


def meters_freshness(*, limit: int = 50, now: dt.datetime | None = None) -> tuple[list[MeterFreshness], dict[str, int]]:
    """The stalest active meters first, and counts of fresh / stale / silent meters."""
    now = now or timezone.now()
    active = Meter.objects.active().exclude(kind=Meter.Kind.VIRTUAL)
    # Plain values, not model instances: the CSV export lists every meter (5,000 on a university), and
    # building four model objects a row was most of its time (issue 29).
    rows = active.order_by(F("last_reading_at").asc(nulls_first=True), "serial").values_list(
        "serial",
        "kind",
        "hostel__name",
        "room_id",
        "room__hostel__code",
        "room__number",
        "interval_minutes",
        "last_reading_at",
    )[:limit]
    kinds = {value: str(label) for value, label in Meter.Kind.choices}
    result = [
        MeterFreshness(
            serial=serial,
            kind=kinds.get(kind, kind),
            hostel=hostel,
            room=f"{room_hostel}-{number}" if room_id is not None else None,  # Room.__str__
            interval_minutes=interval,
            last_reading_at=last,
            late_by=now - last if last else None,
        )
        for serial, kind, hostel, room_id, room_hostel, number, interval, last in rows
    ]
    counts = active.aggregate(
        silent=Count("id", filter=Q(last_reading_at__isnull=True)),
        stale=Count("id", filter=Q(last_reading_at__lt=now - dt.timedelta(hours=1))),
        total=Count("id"),
    )
    counts["fresh"] = counts["total"] - counts["silent"] - counts["stale"]
    return result, counts


def quarantine_summary(*, limit: int = 20) -> dict[str, Any]:
    pending = QuarantinedReading.objects.filter(status=QuarantinedReading.Status.PENDING)
    return {
        "pending": pending.count(),
        "reasons": list(pending.values("reason").annotate(n=Count("id")).order_by("-n")[:10]),
        "latest": list(pending.order_by("-received_at")[:limit]),
    }


def model_versions_latest(*, limit: int = 20) -> list[ModelVersion]:
    """Current versions first, then the most recently trained."""
    versions = list(ModelVersion.objects.order_by("-trained_at")[:limit])
    return sorted(versions, key=lambda version: version.status != ModelVersion.Status.CURRENT)


def history_scans_latest(*, limit: int = 5) -> list[HistoryScan]:
    """The latest scans of stored history (the first run's, imports'), newest first, with their progress."""
    return list(HistoryScan.objects.defer("meter_ids").order_by("-created_at", "-id")[:limit])


def initial_trainings() -> list[InitialTraining]:
    """The first training of each model family after the first run: pending, running, done or failed."""
    return list(InitialTraining.objects.order_by("id"))
