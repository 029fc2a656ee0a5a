"""What analytics keeps of its own: interventions and their measured savings, hostel targets, public
resident pages and digest subscriptions."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from meters.models import Hostel, Meter, Site
from meters.scoping import scope_for


class InterventionQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> InterventionQuerySet:
        """Managers and admins: all. Wardens: those on their hostels or their hostels' meters (a
        site-wide intervention covers other hostels, so it is not theirs to see)."""
        scope = scope_for(user)
        if scope.everything:
            return self
        return self.filter(models.Q(hostel_id__in=scope.hostel_ids) | models.Q(meter__hostel_id__in=scope.hostel_ids))


class Intervention(models.Model):
    """A change made on a meter, a hostel or a whole site from a day on, with the saving expected of it."""

    title = models.CharField(max_length=120, help_text="What was changed, e.g. 'LED lighting in corridors'.")
    description = models.TextField(blank=True)
    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, null=True, blank=True, related_name="interventions")
    hostel = models.ForeignKey(Hostel, on_delete=models.CASCADE, null=True, blank=True, related_name="interventions")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, null=True, blank=True, related_name="interventions")
    start = models.DateField(help_text="First local day with the change in place.")
    expected_saving_fraction = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-1), MaxValueValidator(1)],
        help_text="Expected share of the energy saved (0.1 = 10 %).",
    )
    expected_kwh_per_year = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The latest measurement (intervention_measure: on save, nightly, on "Measure now"); reads never measure.
    measured_at = models.DateTimeField(null=True, blank=True, editable=False)
    measured_until = models.DateField(null=True, blank=True, editable=False)
    savings_kwh = models.FloatField(null=True, blank=True, editable=False)
    savings_fraction = models.FloatField(null=True, blank=True, editable=False)
    fraction_low = models.FloatField(null=True, blank=True, editable=False)
    fraction_high = models.FloatField(null=True, blank=True, editable=False)
    baseline_cv_rmse = models.FloatField(null=True, blank=True, editable=False)
    baseline_nmbe = models.FloatField(null=True, blank=True, editable=False)
    baseline_holdout_error = models.FloatField(
        null=True,
        blank=True,
        editable=False,
        help_text="Savings fraction the baseline model measured on held-out days before the change (truth 0).",
    )
    # The whole measurement (SavingsResult.summary() and its days), so pages and the API draw it without a fit.
    measurement = models.JSONField(default=dict, blank=True, editable=False)
    measure_error = models.CharField(max_length=300, blank=True, editable=False)

    objects = InterventionQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(meter__isnull=False, hostel__isnull=True, site__isnull=True)
                    | models.Q(meter__isnull=True, hostel__isnull=False, site__isnull=True)
                    | models.Q(meter__isnull=True, hostel__isnull=True, site__isnull=False)
                ),
                name="intervention_on_one_meter_hostel_or_site",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.where}, from {self.start})"

    @property
    def where(self) -> str:
        if self.meter_id:
            return f"meter {self.meter}"
        if self.hostel_id:
            return f"hostel {self.hostel}"
        return f"site {self.site}"

    @property
    def savings_percent(self) -> float | None:
        return None if self.savings_fraction is None else 100 * self.savings_fraction

    @property
    def baseline_problems(self) -> list[str]:
        """The Guideline 14 limits the stored measurement's baseline misses (empty: fit, or not measured)."""
        return [str(problem) for problem in (self.measurement or {}).get("baseline_problems") or []]

    @property
    def interval_percent(self) -> tuple[float, float] | None:
        if self.fraction_low is None or self.fraction_high is None:
            return None
        return 100 * self.fraction_low, 100 * self.fraction_high

    @property
    def baseline_percent(self) -> tuple[float, float] | None:
        """CV(RMSE) and NMBE of the baseline, in percent."""
        if self.baseline_cv_rmse is None or self.baseline_nmbe is None:
            return None
        return 100 * self.baseline_cv_rmse, 100 * self.baseline_nmbe

    @property
    def expected_percent(self) -> float | None:
        return None if self.expected_saving_fraction is None else 100 * self.expected_saving_fraction

    def clean(self) -> None:
        chosen = [name for name in ("meter", "hostel", "site") if getattr(self, f"{name}_id")]
        if len(chosen) != 1:
            raise ValidationError("Choose exactly one of meter, hostel or site.")


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


class MeterHealthScore(models.Model):
    """A meter's last computed health score and its parts (written by the meter health task, read by pages)."""

    meter = models.OneToOneField(Meter, on_delete=models.CASCADE, primary_key=True, related_name="health_score")
    score = models.PositiveSmallIntegerField(db_index=True)
    communication = models.FloatField()
    quality = models.FloatField()
    agreement = models.FloatField(null=True, blank=True, help_text="Blank: no peers or main meter to agree with.")
    trend = models.CharField(max_length=12)
    trend_points = models.FloatField()
    recommendation = models.TextField()
    computed_at = models.DateTimeField(help_text="When the task scored it (the last 28 days up to then).")

    class Meta:
        ordering = ("score", "meter_id")

    def __str__(self) -> str:
        return f"meter {self.meter_id}: {self.score}/100"
