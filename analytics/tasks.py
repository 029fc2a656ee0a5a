"""Celery adapters for analytics."""

from __future__ import annotations

from celery import shared_task

from analytics import services
from analytics.services import heartbeat_record


@shared_task(name="analytics.tasks.system_heartbeat", ignore_result=False)
def system_heartbeat() -> dict[str, str]:
    """Record that a worker is alive and push a heartbeat to open pages."""
    event = heartbeat_record(worker=system_heartbeat.request.hostname)
    return {"at": event["at"], "worker": event["worker"]}


@shared_task(name="analytics.tasks.digests_send_due", ignore_result=True)
def digests_send_due() -> int:
    """Send the weekly digest to the users whose Monday morning it is now (hourly)."""
    return services.digests_send_due()


@shared_task(name="analytics.tasks.meter_health_check", ignore_result=True)
def meter_health_check() -> int:
    """Raise low-severity alerts for managers about meters whose health fell below the threshold (daily)."""
    return services.meter_health_alerts_raise()
