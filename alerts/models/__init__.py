"""The alerts app's models: alerts and their rules (core), and each person's notification choices,
devices and daily summaries (notifications)."""

from alerts.models.core import (
    SEVERITY_RANK,
    Alert,
    AlertComment,
    AlertEvent,
    AlertKind,
    Delivery,
    EmailDelivery,
    EscalationPolicy,
    HistorySummary,
    NotificationRule,
    Severity,
    SeverityRule,
    SuppressionWindow,
    WebhookDelivery,
)
from alerts.models.notifications import (
    DailySummary,
    NotificationPreference,
    PushDelivery,
    PushSubscription,
    SummaryEntry,
)

__all__ = [
    "SEVERITY_RANK",
    "Alert",
    "AlertComment",
    "AlertEvent",
    "AlertKind",
    "DailySummary",
    "Delivery",
    "EmailDelivery",
    "EscalationPolicy",
    "HistorySummary",
    "NotificationPreference",
    "NotificationRule",
    "PushDelivery",
    "PushSubscription",
    "Severity",
    "SeverityRule",
    "SummaryEntry",
    "SuppressionWindow",
    "WebhookDelivery",
]
