"""Celery adapters for analytics."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from analytics.models import Intervention
from analytics.savings.services import intervention_measure as measure
from analytics.savings.services import interventions_measure_growing
from analytics.services import heartbeat_record


@shared_task(name="analytics.tasks.system_heartbeat", ignore_result=False)
def system_heartbeat() -> dict[str, str]:
    """Record that a worker is alive and push a heartbeat to open pages."""
    event = heartbeat_record(worker=system_heartbeat.request.hostname)
    return {"at": event["at"], "worker": event["worker"]}


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
