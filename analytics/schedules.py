"""The periodic tasks, defined in code and upserted by name into django-celery-beat.

An existing row is never overwritten or deleted: an admin's edit in the Django admin wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int | None = None
    crontab: str | None = None  # "minute hour day_of_month month_of_year day_of_week"
    description: str = ""


def schedules() -> list[Schedule]:
    return [
        Schedule(
            name="System heartbeat",
            task="analytics.tasks.system_heartbeat",
            every_seconds=settings.HEARTBEAT_SECONDS,
            description="Proves the worker and beat are alive; pushes a heartbeat to every open page.",
        ),
        Schedule(
            name="Staged uploads clean-up",
            task="meters.tasks.uploads_clean_stale",
            every_seconds=60 * 60,
            description="Removes uploaded files previewed and then confirmed or abandoned over a day ago.",
        ),
        Schedule(
            name="Lost upload imports",
            task="meters.tasks.uploads_recover",
            every_seconds=5 * 60,
            description="Queues again uploads still queued after UPLOAD_REQUEUE_MINUTES (a lost message); marks "
            "failed, with Retry, imports that reported no progress for UPLOAD_STALL_MINUTES and whose worker is gone.",
        ),
        Schedule(
            name="Quarantine retention",
            task="meters.tasks.quarantine_prune",
            crontab="45 3 * * *",
            description="Deletes quarantined rows older than QUARANTINE_RETENTION_DAYS (90 by default).",
        ),
        Schedule(
            name="Model artifacts retention",
            task="predictions.tasks.model_artifacts_prune",
            crontab="50 3 * * *",
            description="Removes artifacts of model versions nobody will load again: retired ones past the "
            "MODEL_ARTIFACTS_KEEP_RETIRED newest (2), unused candidates, era baselines of ended history scans.",
        ),
        Schedule(
            name="Alert event log retention",
            task="alerts.tasks.alert_events_prune",
            crontab="55 3 * * *",
            description="Deletes event lines of closed alerts older than ALERT_EVENT_RETENTION_DAYS (730).",
        ),
        Schedule(
            name="Readings partitions ahead",
            task="meters.tasks.readings_partitions_ensure",
            crontab="20 1 * * *",
            description="PostgreSQL: creates the readings' monthly partitions READINGS_PARTITIONS_AHEAD_MONTHS "
            "ahead and moves rows out of the default partition (nothing on SQLite).",
        ),
        Schedule(
            name="Raw readings archive",
            task="meters.tasks.readings_archive_due",
            crontab="40 1 * * *",
            description="Archives raw readings older than RAW_READINGS_KEEP_MONTHS to Parquet in "
            "READINGS_ARCHIVE_DIR and removes them; rollups stay (off while the setting is 0).",
        ),
        Schedule(
            name="Stale meters",
            task="meters.tasks.meters_check_stale",
            every_seconds=15 * 60,
            description="Finds meters that stopped reporting and sends meters.signals.stale_meters_found.",
        ),
        Schedule(
            name="Escalate unacknowledged alerts",
            task="alerts.tasks.alerts_escalate_due",
            every_seconds=60,
            description="Tells facility managers about alerts the wardens did not acknowledge in time.",
        ),
        Schedule(
            name="Reopen snoozed alerts",
            task="alerts.tasks.alerts_unsnooze_due",
            every_seconds=60,
            description="Reopens alerts whose snooze has ended.",
        ),
        Schedule(
            name="Anomaly detection sweep",
            task="predictions.tasks.detection_sweep",
            every_seconds=15 * 60,
            description="Detects anomalies over the last hours of every meter: catches what streaming missed.",
        ),
        Schedule(
            name="Anomaly baseline weekly retraining",
            task="predictions.tasks.baseline_retrain",
            crontab="30 2 * * 1",
            description="Retrains the anomaly baseline; it replaces the current one only if at least as good.",
        ),
        Schedule(
            name="Anomaly baseline drift check",
            task="predictions.tasks.baseline_drift_check",
            crontab="15 3 * * *",
            description="Checks recent residuals for drift and retrains when a fifth of the meters drifted.",
        ),
        Schedule(
            name="Forecasts hourly",
            task="predictions.tasks.forecasts_hourly",
            crontab="5 * * * *",
            description="Fills actuals, forecasts each hostel, transformer and site 72 h and 30 days ahead.",
        ),
        Schedule(
            name="Customer segmentation daily",
            task="predictions.tasks.segmentation_daily",
            crontab="0 2 * * *",
            description="Re-segments customers by load profile at 02:00 UTC; names stay stable.",
        ),
        Schedule(
            name="Transformer failure risk daily",
            task="predictions.tasks.failure_risk_daily",
            crontab="30 2 * * *",
            description="Scores each transformer's probability of failure within 30 days.",
        ),
        Schedule(
            name="Model retraining weekly",
            task="predictions.tasks.models_retrain_weekly",
            crontab="0 3 * * 0",
            description="Retrains forecasters, segmentation and failure risk every Sunday at 03:00 UTC.",
        ),
        Schedule(
            name="Re-send pending notifications",
            task="alerts.tasks.deliveries_requeue_pending",
            every_seconds=5 * 60,
            description="Enqueues again emails and webhooks left pending while the broker was down.",
        ),
        Schedule(
            name="Weekly digest",
            task="analytics.tasks.digests_send_due",
            crontab="0 * * * *",
            description=(
                "Hourly: emails the weekly digest to each user whose Monday DIGEST_LOCAL_HOUR (07:00) it is in "
                "their site's time zone, once per week."
            ),
        ),
        Schedule(
            name="Meter health daily",
            task="analytics.tasks.meter_health_check",
            crontab="30 4 * * *",
            description=(
                "Scores and stores every meter's health; one below METER_HEALTH_ALERT_BELOW raises a low alert for "
                "managers."
            ),
        ),
        Schedule(
            name="Meter health scores hourly",
            task="analytics.tasks.meter_health_refresh",
            crontab="50 * * * *",
            description=(
                "Scores and stores every meter's health for the system page, room pages and the API (no alerts)."
            ),
        ),
        Schedule(
            name="Send notifications held for quiet hours",
            task="alerts.tasks.deliveries_send_held",
            every_seconds=60,
            description="Sends the emails and pushes held back while their recipient's quiet hours lasted.",
        ),
        Schedule(
            name="Daily notification summaries",
            task="alerts.tasks.daily_summaries_due",
            every_seconds=5 * 60,
            description="Sends each person who chose a daily summary their one message of the day, at their time.",
        ),
        Schedule(
            name="Intervention savings nightly",
            task="analytics.tasks.interventions_measure_nightly",
            crontab="40 3 * * *",
            description="Re-measures the savings of interventions whose reporting period (a year) still grows.",
        ),
    ]


def schedules_ensure(**_: Any) -> list[str]:
    """Create missing periodic tasks; return the names created."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    created = []
    for schedule in schedules():
        if PeriodicTask.objects.filter(name=schedule.name).exists():
            continue
        fields: dict[str, Any] = {"task": schedule.task, "description": schedule.description, "kwargs": json.dumps({})}
        if schedule.every_seconds is not None:
            fields["interval"], _ = IntervalSchedule.objects.get_or_create(
                every=schedule.every_seconds, period=IntervalSchedule.SECONDS
            )
        else:
            assert schedule.crontab is not None
            minute, hour, day_of_month, month_of_year, day_of_week = schedule.crontab.split()
            fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
                minute=minute,
                hour=hour,
                day_of_month=day_of_month,
                month_of_year=month_of_year,
                day_of_week=day_of_week,
                timezone="UTC",
            )
        PeriodicTask.objects.create(name=schedule.name, **fields)
        created.append(schedule.name)
    return created
