"""Writes for alerts: raising, the lifecycle, escalation, suppression and the notifications they cause.

Every change checks who may make it, writes an audit row, and pushes a typed event after commit.
"""

from alerts.services.closures import (
    ClosureAdded,
    NoClosureOffered,
    alert_closure_calendar_add,
    may_edit_site_calendar,
)
from alerts.services.escalation import alerts_escalate_due, alerts_unsnooze_due
from alerts.services.history import history_summary_deliver, history_summary_record
from alerts.services.lifecycle import (
    AlertTransitionError,
    alert_acknowledge,
    alert_assign,
    alert_comment,
    alert_feedback,
    alert_resolve,
    alert_snooze,
    not_assignable,
)
from alerts.services.notifications import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookFailed,
    deliveries_requeue_pending,
    email_delivery_send,
    sign,
    webhook_delivery_send,
    webhook_payload,
)
from alerts.services.policies import escalation_minutes, severity_for, suppression_covering
from alerts.services.raising import alert_event_follow, alert_raise
from alerts.services.retention import alert_events_prune

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AlertTransitionError",
    "ClosureAdded",
    "NoClosureOffered",
    "WebhookFailed",
    "alert_acknowledge",
    "alert_assign",
    "alert_closure_calendar_add",
    "alert_comment",
    "alert_event_follow",
    "alert_events_prune",
    "alert_feedback",
    "alert_raise",
    "alert_resolve",
    "alert_snooze",
    "alerts_escalate_due",
    "alerts_unsnooze_due",
    "deliveries_requeue_pending",
    "email_delivery_send",
    "escalation_minutes",
    "history_summary_deliver",
    "history_summary_record",
    "may_edit_site_calendar",
    "not_assignable",
    "severity_for",
    "sign",
    "suppression_covering",
    "webhook_delivery_send",
    "webhook_payload",
]
