"""Alerts, their audit trail and comments, severity and escalation rules, webhook rules and deliveries."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from alerts.querysets import AlertChildQuerySet, AlertQuerySet
from meters.models import Hostel, Meter, Room


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


class AlertKind(models.TextChoices):
    ANOMALY = "anomaly", "Abnormal consumption"
    STALE_METER = "stale_meter", "Meter stopped reporting"
    MAIN_IMBALANCE = "main_imbalance", "Main meter imbalance"
    TRANSFORMER_CAPACITY = "transformer_capacity", "Transformer near capacity"
    TRANSFORMER_CONDITION = "transformer_condition", "Transformer running hot or gassing"
    MODEL_UNFIT = "model_unfit", "Model no longer fits"
    METER_HEALTH = "meter_health", "Meter health below threshold"
    MANUAL = "manual", "Raised by hand"


class Alert(models.Model):
    """One problem somebody should look at, with its lifecycle; repeats update it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"
        SUPPRESSED = "suppressed", "Suppressed"

    ACTIVE = ("open", "acknowledged", "snoozed")

    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    title = models.CharField(max_length=200)
    explanation = models.TextField(blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    score = models.FloatField(null=True, blank=True, help_text="Detector score, 0 (normal) to 1 (certainly abnormal).")
    excess_cost = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Estimated cost of the excess energy."
    )
    hostel = models.ForeignKey(Hostel, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    dedupe_key = models.CharField(max_length=200, help_text="Same key while active means the same problem.")
    group_key = models.CharField(
        max_length=200,
        blank=True,
        help_text="Near-duplicates (same meter and kind) share it: an active alert absorbs their findings "
        "for ALERT_GROUP_HOURS after its event began.",
    )
    event_start = models.DateTimeField(null=True, blank=True, help_text="When the problem itself began, UTC.")
    event_end = models.DateTimeField(null=True, blank=True, help_text="When it ended, UTC; blank while unknown.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    occurrences = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_alerts"
    )
    escalation_level = models.PositiveSmallIntegerField(default=0, help_text="0 wardens, 1 facility managers.")
    escalation_due_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    source_payload = models.JSONField(default=dict, blank=True)
    is_true_alarm = models.BooleanField(null=True, blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    feedback_at = models.DateTimeField(null=True, blank=True)
    history = models.BooleanField(
        default=False,
        help_text="Found by a scan of stored history (first seen = the event's own time): not pushed, "
        "not emailed on its own; the scan's summary tells people.",
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(status__in=["open", "acknowledged", "snoozed"]),
                name="one_active_alert_per_dedupe_key",
            ),
            models.CheckConstraint(
                condition=models.Q(status="snoozed", snoozed_until__isnull=False) | ~models.Q(status="snoozed"),
                name="snoozed_alert_has_an_end",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "escalation_level", "escalation_due_at"]),
            models.Index(fields=["status", "snoozed_until"]),
            models.Index(fields=["hostel", "status"]),
            models.Index(fields=["group_key", "status", "event_start"]),
            models.Index(fields=["meter", "event_start"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[self.severity]


class AlertEvent(models.Model):
    """One line of an alert's audit trail: who did what, when, and the status before and after."""

    class Action(models.TextChoices):
        RAISED = "raised", "Raised"
        REPEATED = "repeated", "Seen again"
        WORSENED = "worsened", "Seen again, more severe"
        SUPPRESSED = "suppressed", "Suppressed"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        SNOOZED = "snoozed", "Snoozed"
        UNSNOOZED = "unsnoozed", "Snooze ended"
        ESCALATED = "escalated", "Escalated"
        ASSIGNED = "assigned", "Assigned"
        COMMENTED = "commented", "Commented"
        FEEDBACK = "feedback", "Feedback"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    pushed = models.BooleanField(default=True, help_text="Sent live to sockets (and replayed on catch-up).")
    recorded_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the row was written (``at`` is when it happened): bounds the replay of events that "
        "committed after a later-numbered one, so a reconnecting socket misses none.",
    )

    objects = AlertChildQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["at"]), models.Index(fields=["recorded_at"])]

    def __str__(self) -> str:
        return f"#{self.alert_id} {self.action} at {self.at:%Y-%m-%d %H:%M}"


class AlertComment(models.Model):
    """A note on an alert by someone handling it."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    body = models.TextField()
    created_at = models.DateTimeField()

    objects = AlertChildQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment on #{self.alert_id} by {self.author}"


class SeverityRule(models.Model):
    """Raise an alert's severity when its score or excess cost reaches a threshold (for a kind, or any)."""

    kind = models.CharField(max_length=24, choices=AlertKind.choices, blank=True, help_text="Blank: every kind.")
    min_score = models.FloatField(null=True, blank=True)
    min_excess_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)

    class Meta:
        ordering = ["kind", "min_score"]

    def __str__(self) -> str:
        return f"{self.kind or 'any'}: score≥{self.min_score} or cost≥{self.min_excess_cost} → {self.severity}"

    def clean(self) -> None:
        if self.min_score is None and self.min_excess_cost is None:
            raise ValidationError("Give a minimum score, a minimum excess cost, or both.")


class EscalationPolicy(models.Model):
    """How long an unacknowledged alert of a severity waits before facility managers are told."""

    severity = models.CharField(max_length=8, choices=Severity.choices, unique=True)
    minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["minutes"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return f"{self.severity}: {self.minutes} min"


class NotificationRule(models.Model):
    """A preference: a user's email settings, or a webhook (generic signed, Slack or Teams), for one hostel or all."""

    class Format(models.TextChoices):
        GENERIC = "generic", "Signed JSON (generic webhook)"
        SLACK = "slack", "Slack incoming webhook"
        TEAMS = "teams", "Microsoft Teams incoming webhook"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_rules",
        help_text="Blank for a webhook that is not a person's.",
    )
    hostel = models.ForeignKey(
        Hostel, on_delete=models.CASCADE, null=True, blank=True, related_name="alert_rules", help_text="Blank: all."
    )
    email = models.BooleanField(default=True)
    min_severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.LOW)
    webhook_url = models.URLField(blank=True)
    webhook_format = models.CharField(
        max_length=8,
        choices=Format.choices,
        default=Format.GENERIC,
        help_text="Slack and Teams get their own message layout; the generic webhook gets signed JSON.",
    )
    webhook_secret = models.CharField(max_length=200, blank=True, help_text="Signs generic webhooks (HMAC-SHA256).")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user", "hostel"]

    def __str__(self) -> str:
        target = self.webhook_url or (self.user and self.user.get_username()) or "rule"
        return f"{target} ({self.hostel or 'all hostels'}, ≥{self.min_severity})"

    def clean(self) -> None:
        if self.webhook_url and self.webhook_format == self.Format.GENERIC and not self.webhook_secret:
            raise ValidationError({"webhook_secret": "A webhook needs a secret to sign its messages."})
        if not self.user_id and not self.webhook_url:
            raise ValidationError("A rule is for a user, or has a webhook URL.")

    def allows(self, severity: str) -> bool:
        return SEVERITY_RANK[severity] >= SEVERITY_RANK[self.min_severity]


class Delivery(models.Model):
    """Shared fields of a notification attempt; the key makes a redelivered task a no-op."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=120, unique=True)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Held back until then (the person's quiet hours); blank: at once."
    )

    class Meta:
        abstract = True


class EmailDelivery(Delivery):
    """An email about an alert event to one person."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    address = models.EmailField()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "email deliveries"

    def __str__(self) -> str:
        return f"email {self.key} {self.status}"


class WebhookDelivery(Delivery):
    """A signed JSON POST about an alert event to one webhook."""

    rule = models.ForeignKey(NotificationRule, on_delete=models.CASCADE, related_name="deliveries")
    url = models.URLField()
    payload = models.JSONField(default=dict)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"webhook {self.key} {self.status}"


class SuppressionWindow(models.Model):
    """A maintenance window or vacation: alerts of a hostel (or one room) are recorded but not pushed."""

    class Reason(models.TextChoices):
        MAINTENANCE = "maintenance", "Maintenance"
        VACATION = "vacation", "Vacation"
        OTHER = "other", "Other"

    hostel = models.ForeignKey(Hostel, on_delete=models.CASCADE, related_name="suppression_windows")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, null=True, blank=True, related_name="suppression_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=12, choices=Reason.choices, default=Reason.MAINTENANCE)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="suppression_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        where = self.room or self.hostel
        return f"{self.get_reason_display()} {where} {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "A window ends after it starts."})
        if self.room_id and self.hostel_id and self.room and self.room.hostel_id != self.hostel_id:
            raise ValidationError({"room": "The room must be in the window's hostel."})


class HistorySummary(models.Model):
    """What one scan of stored history found in one hostel: the one notification that stands for its alerts."""

    key = models.CharField(max_length=160, unique=True, help_text="The scan and hostel: a re-run tells nobody twice.")
    hostel = models.ForeignKey(
        Hostel, on_delete=models.CASCADE, null=True, blank=True, related_name="history_summaries"
    )
    title = models.CharField(max_length=200)
    findings = models.PositiveIntegerField()
    start = models.DateTimeField(help_text="Start of the scanned history, UTC.")
    end = models.DateTimeField(help_text="End of the scanned history, UTC.")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_to = models.JSONField(
        default=list, blank=True, help_text="'email:<user id>' and 'webhook:<rule id>' already told."
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "history summaries"

    def __str__(self) -> str:
        return self.title
