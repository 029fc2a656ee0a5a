"""The first training of forecasts, segments and failure risk, right after the first run, not at 02:00.

Without it a new installation shows "no forecast yet", "no segments yet" and "no transformer risk
scores yet" until the nightly and weekly schedules come round. Each family is one `InitialTraining`
row (pending, running, done or failed, with its time) that the system page shows. Forecasting trains
one subject per task, the whole site first (the dashboard's first chart), so a worker shared with live
detection is never held for the half hour all subjects take on a busy demo machine.
"""

from __future__ import annotations

import datetime as dt
import traceback
from functools import partial
from typing import Any

from celery import signature
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from meters.models import Reading
from predictions.failure_risk import failure_risks_compute, failure_train
from predictions.forecasting.runs import job_run
from predictions.forecasting.series import Subject, subjects_all
from predictions.forecasting.services import forecast_subject, forecaster_train, forecasts_produce
from predictions.models import InitialTraining, ModelVersion
from predictions.segmentation import segments_train

FAMILIES = ("failure", "segmentation", "forecast")  # quickest first: each fills a dashboard panel
STALE_AFTER = dt.timedelta(hours=1)
SUBJECT_ORDER = ("site", "hostel", "transformer")


def initial_training_ensure(*, now: dt.datetime | None = None) -> list[str]:
    """Queue the first training of each family not yet trained; returns the families queued."""
    now = now or timezone.now()
    if not Reading.objects.exists():
        return []
    queued = []
    for family in FAMILIES:
        row, created = InitialTraining.objects.get_or_create(family=family)
        if created and ModelVersion.objects.filter(family=family, status=ModelVersion.Status.CURRENT).exists():
            # An installation that trained before this existed: its schedules keep it current.
            InitialTraining.objects.filter(pk=row.pk).update(
                status=InitialTraining.Status.DONE, finished_at=now, note="already trained"
            )
            continue
        interrupted = row.status == InitialTraining.Status.RUNNING and (
            settings.EMBEDDED or row.started_at is None or now - row.started_at > STALE_AFTER
        )
        if created or row.status in (InitialTraining.Status.PENDING, InitialTraining.Status.FAILED) or interrupted:
            transaction.on_commit(partial(_enqueue, family))
            queued.append(family)
    return queued


def _enqueue(family: str) -> None:
    # By name: predictions.tasks imports this module.
    signature("predictions.tasks.initial_training", kwargs={"family": family}).delay()


def _subjects() -> list[Subject]:
    return sorted(subjects_all(), key=lambda s: SUBJECT_ORDER.index(s.kind) if s.kind in SUBJECT_ORDER else 9)


def _forecast_one(subject: Subject) -> dict[str, Any]:
    version = forecaster_train(subject=subject)
    if version.status != ModelVersion.Status.CURRENT:
        return {"status": "ok", "subject": subject.key, "failed": [subject.key], "note": version.note}
    outcome = forecast_subject(subject=subject)
    return {"status": "ok", "subject": subject.key, "forecast": outcome.status}


def _train(family: str) -> dict[str, Any]:
    if family == "segmentation":
        version = segments_train()
        return {"status": "ok" if version.status == "current" else version.status, "note": version.note}
    version = failure_train()
    if version.status != ModelVersion.Status.CURRENT:
        return {"status": version.status, "note": version.note}
    return {"status": "ok"} | {"scored": failure_risks_compute()["scored"]}


def initial_training_run(*, family: str) -> dict[str, Any]:
    """Train one family (forecasting: its next subject) and produce its first output, unless done.

    Records pending, running, done or failed on the family's row; safe to run twice.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}")
    row, _ = InitialTraining.objects.get_or_create(family=family)
    if row.status == InitialTraining.Status.DONE:
        return {"family": family, "skipped": "done"}
    if row.status != InitialTraining.Status.RUNNING or row.started_at is None:
        row.started_at = timezone.now()
    row.status = InitialTraining.Status.RUNNING
    row.note = ""
    row.save(update_fields=["status", "started_at", "note"])
    try:
        if family == "forecast":
            return {"family": family} | _forecast_step(row)
        summary = job_run(job=f"initial_training_{family}", work=lambda: _train(family))
    except Exception as error:
        _finish(row, ok=False, note="".join(traceback.format_exception_only(error)).strip()[:2000])
        raise
    ok = summary.get("status") == "ok"
    _finish(row, ok=ok, note="" if ok else str(summary.get("note") or summary.get("status")))
    return {"family": family} | summary


def _forecast_step(row: InitialTraining) -> dict[str, Any]:
    """Train and forecast the next subject; queue the next step, or finish with every subject's forecast."""
    subjects = _subjects()
    done = list(row.subjects_done)
    remaining = [s for s in subjects if s.key not in done]
    if remaining:
        subject = remaining[0]
        summary = job_run(job="initial_training_forecast", work=lambda: _forecast_one(subject))
        done.append(subject.key)
        InitialTraining.objects.filter(pk=row.pk).update(
            subjects_done=done, subjects_total=len(subjects), note=f"{len(done)} of {len(subjects)} subjects"
        )
        if len(remaining) > 1:
            transaction.on_commit(partial(_enqueue, "forecast"))
            return summary
    produced = forecasts_produce()  # every subject, and the transformer capacity checks
    row.refresh_from_db()
    ok = produced["ok"] > 0
    _finish(row, ok=ok, note=f"{produced['ok']} of {produced['subjects']} subjects forecast")
    return {"status": "ok" if ok else "failed", "forecast_subjects": produced["ok"]}


def _finish(row: InitialTraining, *, ok: bool, note: str) -> None:
    finished = timezone.now()
    InitialTraining.objects.filter(pk=row.pk).update(
        status=InitialTraining.Status.DONE if ok else InitialTraining.Status.FAILED,
        finished_at=finished,
        seconds=round((finished - (row.started_at or finished)).total_seconds(), 1),
        note=note,
    )
