"""Reads for dashboards and system health (re-exported from the modules of this package)."""

from analytics.selectors.health import Check, health_checks, health_summary
from analytics.selectors.overview import (
    DateRange,
    GridHealth,
    HostelComparison,
    carbon_kg_for_user,
    daily_consumption_for_user,
    grid_health_for_user,
    hostel_comparison_for_user,
    hourly_load_for_user,
    overview_for_user,
)
from analytics.selectors.system import (
    MeterFreshness,
    ScheduleStatus,
    history_scans_latest,
    initial_trainings,
    meters_freshness,
    model_versions_latest,
    quarantine_summary,
    queue_depths,
    schedules_status,
)

__all__ = [
    "Check",
    "DateRange",
    "GridHealth",
    "HostelComparison",
    "MeterFreshness",
    "ScheduleStatus",
    "carbon_kg_for_user",
    "daily_consumption_for_user",
    "grid_health_for_user",
    "health_checks",
    "health_summary",
    "history_scans_latest",
    "hostel_comparison_for_user",
    "hourly_load_for_user",
    "initial_trainings",
    "meters_freshness",
    "model_versions_latest",
    "overview_for_user",
    "quarantine_summary",
    "queue_depths",
    "schedules_status",
]
