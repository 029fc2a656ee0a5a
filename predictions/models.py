"""Trained model versions and their measured quality."""

from __future__ import annotations

from django.db import models


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
