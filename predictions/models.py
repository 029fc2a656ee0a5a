"""Trained model versions and their measured quality."""

from __future__ import annotations

from typing import Any

from django.db import models

from customers.roles import scope_for


class ModelVersion(models.Model):
    """One trained version of a model family, with its parameters, window, metrics and artifact."""

    class Family(models.TextChoices):
        ANOMALY = "anomaly", "Anomaly detection"
        FORECAST = "forecast", "Demand forecasting"
        SEGMENTATION = "segmentation", "Customer segmentation"
        FAILURE = "failure", "Transformer failure risk"

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        CURRENT = "current", "Current"
        RETIRED = "retired", "Retired"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Training failed"

    family = models.CharField(max_length=16, choices=Family.choices)
    subject = models.CharField(
        max_length=100,
        blank=True,
        help_text="What the model is for: a meter serial, hostel code, 'site:<code>', or blank.",
    )
    format_version = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CANDIDATE)
    parameters = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    fit = models.BooleanField(null=True, help_text="Passes its fitness gate (ASHRAE Guideline 14 or family-specific).")
    train_start = models.DateTimeField(null=True, blank=True)
    train_end = models.DateTimeField(null=True, blank=True)
    artifact = models.CharField(max_length=300, blank=True, help_text="Path under ML_MODELS_DIR.")
    trained_at = models.DateTimeField(auto_now_add=True)
    training_seconds = models.FloatField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-trained_at"]
        indexes = [models.Index(fields=["family", "subject", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "subject"],
                condition=models.Q(status="current"),
                name="one_current_version_per_family_and_subject",
            )
        ]

    def __str__(self) -> str:
        subject = f" {self.subject}" if self.subject else ""
        return f"{self.get_family_display()}{subject} v{self.pk} ({self.status})"


# --- Forecasting, segmentation and failure risk (issue 7) ---------------------------------------


class ForecastQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ForecastQuerySet:
        scope = scope_for(user)
        if scope.everything:
            return self
        # Site totals include every hostel: only roles that see everything get them.
        return self.filter(
            models.Q(subject_kind="hostel", hostel__in=scope.hostel_ids)
            | models.Q(subject_kind="transformer", transformer__meters__hostel__in=scope.hostel_ids)
        ).distinct()


class Forecast(models.Model):
    """A forecast of one subject's energy for one hour or one local day, with its actual once known."""

    class SubjectKind(models.TextChoices):
        HOSTEL = "hostel", "Hostel"
        TRANSFORMER = "transformer", "Transformer"
        SITE = "site", "Site"

    class Horizon(models.TextChoices):
        HOURLY = "hourly", "Hourly (72 h ahead)"
        DAILY = "daily", "Daily (30 days ahead)"

    subject_kind = models.CharField(max_length=12, choices=SubjectKind.choices)
    subject_id = models.PositiveIntegerField(help_text="Primary key of the hostel, transformer or site.")
    hostel = models.ForeignKey("meters.Hostel", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    transformer = models.ForeignKey(
        "customers.Transformer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    site = models.ForeignKey("meters.Site", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    horizon = models.CharField(max_length=6, choices=Horizon.choices)
    target = models.DateTimeField(help_text="Start of the hour, or of the local day, in UTC.")
    day = models.DateField(null=True, blank=True, help_text="Local day, for daily forecasts.")
    issued_at = models.DateTimeField(help_text="Forecast origin: only data before it was used.")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    yhat = models.FloatField(help_text="kWh in the hour or day.")
    lower = models.FloatField(help_text="5% quantile.")
    upper = models.FloatField(help_text="95% quantile.")
    yhat_day_ahead = models.FloatField(null=True, blank=True, help_text="Latest forecast issued 24 h or more ahead.")
    actual = models.FloatField(null=True, blank=True)

    objects = ForecastQuerySet.as_manager()

    class Meta:
        ordering = ["subject_kind", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id", "horizon", "target"],
                name="one_forecast_per_subject_horizon_target",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(subject_kind="hostel", hostel__isnull=False)
                    | models.Q(subject_kind="transformer", transformer__isnull=False)
                    | models.Q(subject_kind="site", site__isnull=False)
                ),
                name="forecast_names_its_subject",
            ),
        ]
        indexes = [models.Index(fields=["subject_kind", "horizon", "target"])]

    def __str__(self) -> str:
        return f"{self.subject_kind} {self.horizon} {self.target:%Y-%m-%d %H:%M} {self.yhat:.1f} kWh"


class TransformerRisk(models.Model):
    """A transformer's calibrated probability of failing within 30 days, with its top factors."""

    transformer = models.ForeignKey("customers.Transformer", on_delete=models.CASCADE, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    probability = models.FloatField()
    factors = models.JSONField(default=list, help_text="Top contributions: [{feature, value, contribution}].")
    features = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-computed_at", "-probability"]
        indexes = [models.Index(fields=["transformer", "computed_at"])]

    def __str__(self) -> str:
        return f"{self.transformer_id} {self.probability:.1%} at {self.computed_at:%Y-%m-%d}"


class JobRun(models.Model):
    """One run of a scheduled forecasting, segmentation, failure-risk or training job."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Succeeded"
        PARTIAL = "partial", "Partly succeeded"
        FAILED = "failed", "Failed"

    job = models.CharField(max_length=60)
    started_at = models.DateTimeField()
    seconds = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.RUNNING)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["job", "started_at"])]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"
