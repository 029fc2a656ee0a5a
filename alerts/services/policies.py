"""Severity from kind, score and cost; escalation deadlines; suppression windows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q

from alerts.models import (
    SEVERITY_RANK,
    AlertKind,
    EscalationPolicy,
    SeverityRule,
    SuppressionWindow,
)

DEFAULT_KIND_SEVERITY = {
    AlertKind.ANOMALY: "low",
    AlertKind.STALE_METER: "low",
    AlertKind.MODEL_UNFIT: "low",
    AlertKind.METER_HEALTH: "low",
    AlertKind.MAIN_IMBALANCE: "medium",
    AlertKind.TRANSFORMER_CAPACITY: "high",
    AlertKind.TRANSFORMER_CONDITION: "high",
    AlertKind.MANUAL: "medium",
}
DEFAULT_SCORE_SEVERITY = [(0.95, "critical"), (0.8, "high"), (0.6, "medium")]
DEFAULT_COST_SEVERITY = [(Decimal(100), "critical"), (Decimal(20), "high"), (Decimal(5), "medium")]
DEFAULT_ESCALATION_MINUTES = {"critical": 5, "high": 15, "medium": 60, "low": 240}


def _max_severity(*severities: str) -> str:
    return max(severities, key=lambda value: SEVERITY_RANK[value])


def _min_severity(*severities: str) -> str:
    return min(severities, key=lambda value: SEVERITY_RANK[value])


def severity_for(*, kind: str, score: float | None, excess_cost: Decimal | float | None) -> str:
    """Severity from kind, detector score and excess cost: configured rules, or the defaults."""
    cost = Decimal(str(excess_cost)) if excess_cost is not None else None
    severity = DEFAULT_KIND_SEVERITY.get(AlertKind(kind), "low")
    rules = list(SeverityRule.objects.filter(Q(kind="") | Q(kind=kind)))
    if rules:
        for rule in rules:
            by_score = rule.min_score is not None and score is not None and score >= rule.min_score
            by_cost = rule.min_excess_cost is not None and cost is not None and cost >= rule.min_excess_cost
            if by_score or by_cost:
                severity = _max_severity(severity, rule.severity)
        return severity
    for threshold, level in DEFAULT_SCORE_SEVERITY:
        if score is not None and score >= threshold:
            severity = _max_severity(severity, level)
            break
    for cost_threshold, level in DEFAULT_COST_SEVERITY:
        if cost is not None and cost >= cost_threshold:
            severity = _max_severity(severity, level)
            break
    return severity


def escalation_minutes(*, severity: str) -> int:
    minutes = EscalationPolicy.objects.filter(severity=severity).values_list("minutes", flat=True).first()
    return int(minutes) if minutes is not None else DEFAULT_ESCALATION_MINUTES[severity]


def suppression_covering(*, hostel_id: int | None, room_id: int | None, at: dt.datetime) -> SuppressionWindow | None:
    """The maintenance or vacation window that silences alerts of this hostel or room at this time."""
    if hostel_id is None:
        return None
    return (
        SuppressionWindow.objects.filter(hostel_id=hostel_id, starts_at__lte=at, ends_at__gt=at)
        .filter(Q(room__isnull=True) | Q(room_id=room_id))
        .order_by("starts_at")
        .first()
    )
