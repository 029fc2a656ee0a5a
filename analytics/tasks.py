"""Celery adapters for analytics."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from analytics import services
from analytics.models import Intervention
from analytics.savings.services import intervention_measure as measure
from analytics.savings.services import interventions_measure_growing
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
    """Store every meter's health and raise low alerts for managers about those below the threshold (daily)."""
    return services.meter_health_alerts_raise()


@shared_task(name="analytics.tasks.meter_health_refresh", ignore_result=True)
def meter_health_refresh() -> int:
    """Store every meter's health score for the pages and the API, without alerting (hourly)."""
    return len(services.meter_health_store())


@shared_task(name="analytics.tasks.intervention_measure", autoretry_for=(OperationalError,), retry_backoff=True)
def intervention_measure(intervention_id: int) -> dict[str, object]:
    """Measure one intervention's savings and store them (queued when it is logged or edited)."""
    intervention = Intervention.objects.select_related("meter", "hostel", "site").filter(pk=intervention_id).first()
    if intervention is None:
        return {"intervention": intervention_id, "measured": False, "reason": "deleted"}
    result = measure(intervention=intervention)
    return {"intervention": intervention_id, "measured": result is not None, "reason": intervention.measure_error}


@shared_task(
    name="analytics.tasks.interventions_measure_nightly", autoretry_for=(OperationalError,), retry_backoff=True
)
def interventions_measure_nightly() -> dict[str, int]:
    """Re-measure the interventions whose reporting period still grows."""
    return interventions_measure_growing()
