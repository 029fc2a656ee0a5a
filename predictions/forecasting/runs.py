"""Recording scheduled runs: duration and outcome of each job, visible in the admin."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from predictions.models import JobRun


def _task_id() -> str:
    from celery import current_task

    request = getattr(current_task, "request", None)
    return str(getattr(request, "id", None) or "")


def job_run(*, job: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `work`, recording a JobRun row with its duration, outcome and summary; re-raises failures.

    A task whose worker died is delivered again with the same task id: the dead run's row, still
    "running", is marked lost, so the admin never shows a run that will not end.
    """
    task_id = _task_id()
    if task_id:
        JobRun.objects.filter(task_id=task_id, outcome=JobRun.Outcome.RUNNING).update(outcome=JobRun.Outcome.LOST)
    run = JobRun.objects.create(job=job, started_at=timezone.now(), task_id=task_id)
    started = time.perf_counter()
    try:
        summary = work()
    except Exception as error:
        run.seconds = time.perf_counter() - started
        run.outcome = JobRun.Outcome.FAILED
        run.error = "".join(traceback.format_exception_only(error)).strip()[:2000]
        run.save(update_fields=["seconds", "outcome", "error"])
        raise
    run.seconds = time.perf_counter() - started
    run.summary = summary
    bad = summary.get("failed") or summary.get("insufficient_history") or summary.get("status") not in (None, "ok")
    run.outcome = JobRun.Outcome.PARTIAL if bad else JobRun.Outcome.OK
    run.save(update_fields=["seconds", "outcome", "summary"])
    return {"job": job, "outcome": run.outcome, "seconds": round(run.seconds, 2)} | summary
