"""What analytics keeps of its own: hostel targets, public resident pages and digest subscriptions."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from meters.models import Hostel


def _public_token() -> str:
    return secrets.token_urlsafe(12)


class HostelTarget(models.Model):
    """A manager's target for a hostel: kWh per occupied bed and day, weather-normalized."""

    hostel = models.OneToOneField(Hostel, on_delete=models.CASCADE, related_name="energy_target")
    kwh_per_bed_day = models.FloatField(
        validators=[MinValueValidator(0.01), MaxValueValidator(500)],
        help_text="Target kWh per occupied bed and day, in the site's average weather.",
    )
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hostel"]
        constraints = [models.CheckConstraint(condition=models.Q(kwh_per_bed_day__gt=0), name="target_positive")]

    def __str__(self) -> str:
        return f"{self.hostel}: {self.kwh_per_bed_day:g} kWh per occupied bed and day"


class PublicHostelPage(models.Model):
    """A read-only page for a hostel's residents at an unguessable address; off until an admin turns it on."""

    hostel = models.OneToOneField(Hostel, on_delete=models.CASCADE, related_name="public_page")
    enabled = models.BooleanField(default=False, help_text="Anyone with the address may read the page.")
    token = models.CharField(max_length=32, unique=True, default=_public_token, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hostel"]

    def __str__(self) -> str:
        return f"Public page of {self.hostel} ({'on' if self.enabled else 'off'})"


class DigestSubscription(models.Model):
    """Whether a user gets the weekly digest email, and the ISO week it was last sent (sent once a week)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest")
    subscribed = models.BooleanField(default=True)
    last_sent_week = models.CharField(max_length=8, blank=True, help_text="ISO week, e.g. 2026-W49.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user"]

    def __str__(self) -> str:
        return f"Digest for {self.user} ({'on' if self.subscribed else 'unsubscribed'})"
