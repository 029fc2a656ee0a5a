"""What each person chooses to hear, their devices for Web Push, and the daily summaries that batch alerts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from alerts.models.core import SEVERITY_RANK, Alert, AlertEvent, AlertKind, Delivery, Severity
from meters.models import Hostel, validate_timezone


def _default_time_zone() -> str:
    return str(settings.TIME_ZONE)


class NotificationPreference(models.Model):
    """One person's choices: which hostels, kinds and severities reach them, by email and push, and when."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference")
    email = models.BooleanField(default=True, help_text="Send alerts by email.")
    push = models.BooleanField(default=True, help_text="Send alerts to the devices where notifications were allowed.")
    hostels = models.ManyToManyField(
        Hostel, blank=True, related_name="+", help_text="None chosen: every hostel the person may see."
    )
    kinds = models.JSONField(default=list, blank=True, help_text="Alert kinds; empty: every kind.")
    min_severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.LOW)
    quiet_start = models.TimeField(null=True, blank=True, help_text="Quiet hours begin (local time).")
    quiet_end = models.TimeField(null=True, blank=True, help_text="Quiet hours end (local time).")
    critical_breaks_quiet = models.BooleanField(
        default=True, help_text="A critical alert is sent at once, even in quiet hours."
    )
    daily_summary = models.BooleanField(default=False, help_text="One summary a day instead of a message per alert.")
    summary_at = models.TimeField(default=dt.time(8, 0), help_text="When the daily summary is sent (local time).")
    time_zone = models.CharField(max_length=64, default=_default_time_zone, validators=[validate_timezone])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "notification settings"
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"Notification settings of {self.user}"

    def clean(self) -> None:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationError({"quiet_end": "Give both the start and the end of quiet hours, or neither."})
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValidationError({"quiet_end": "Quiet hours end at a different time than they start."})
        unknown = sorted(set(self.kinds) - set(AlertKind.values))
        if unknown:
            raise ValidationError({"kinds": f"Unknown alert kind(s): {', '.join(unknown)}."})

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def wants(self, *, kind: str, severity: str, hostel_id: int | None, hostel_ids: set[int]) -> bool:
        """Whether an alert of this kind, severity and hostel is one the person chose (`hostel_ids`: their choice)."""
        if SEVERITY_RANK[severity] < SEVERITY_RANK[self.min_severity]:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        return not hostel_ids or hostel_id is None or hostel_id in hostel_ids

    def quiet_until(self, at: dt.datetime) -> dt.datetime | None:
        """The end of the quiet hours `at` falls in (UTC), or None when it is not in quiet hours."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        local = at.astimezone(self.tz)
        now = local.time().replace(tzinfo=None)
        start, end = self.quiet_start, self.quiet_end
        inside = start <= now < end if start < end else (now >= start or now < end)
        if not inside:
            return None
        day = local.date() if now < end else local.date() + dt.timedelta(days=1)
        return dt.datetime.combine(day, end, tzinfo=self.tz).astimezone(dt.UTC)


class PushSubscription(models.Model):
    """One browser or phone where a person allowed notifications (the Push API's subscription)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200, help_text="The browser's public key (base64url).")
    auth = models.CharField(max_length=100, help_text="The browser's authentication secret (base64url).")
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "id"]

    def __str__(self) -> str:
        return f"{self.user}: {self.user_agent[:60] or self.endpoint[:60]}"


class PushDelivery(Delivery):
    """A Web Push message about an alert event to one device."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        PushSubscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    endpoint = models.URLField(max_length=1000)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "push deliveries"

    def __str__(self) -> str:
        return f"push {self.key} {self.status}"


class DailySummary(models.Model):
    """One person's summary of a day's alerts: one email and one push instead of a message each."""

    key = models.CharField(max_length=120, unique=True, help_text="The person and day: a re-run sends nothing twice.")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The person's local day it was sent.")
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "daily summaries"

    def __str__(self) -> str:
        return f"summary {self.key}"


class SummaryEntry(models.Model):
    """An alert event held for a person's next daily summary."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    summary = models.ForeignKey(DailySummary, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="one_summary_entry_per_user_event")]
        indexes = [models.Index(fields=["user", "summary"])]
        verbose_name_plural = "summary entries"

    def __str__(self) -> str:
        return f"#{self.alert_id} for {self.user}"
