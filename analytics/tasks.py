"""Celery adapters for analytics."""

from __future__ import annotations

from celery import shared_task

from analytics.services import heartbeat_record


@shared_task(name="analytics.tasks.system_heartbeat", ignore_result=False)
def system_heartbeat() -> dict[str, str]:
    """Record that a worker is alive and push a heartbeat to open pages."""
    event = heartbeat_record(worker=system_heartbeat.request.hostname)
    return {"at": event["at"], "worker": event["worker"]}
