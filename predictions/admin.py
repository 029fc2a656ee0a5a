from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from predictions.models import Forecast, JobRun, ModelVersion, TransformerRisk


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Model versions are written by training; admins read them and may retire one."""

    list_display = ["__str__", "family", "subject", "status", "fit", "trained_at", "training_seconds"]
    list_filter = ["family", "status", "fit"]
    search_fields = ["subject", "note"]
    date_hierarchy = "trained_at"
    readonly_fields = [
        "family",
        "subject",
        "format_version",
        "parameters",
        "metrics",
        "fit",
        "train_start",
        "train_end",
        "artifact",
        "trained_at",
        "training_seconds",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Forecasting, segmentation and failure risk (issue 7) ---------------------------------------


@admin.register(Forecast)
class ForecastAdmin(admin.ModelAdmin):
    """Stored forecasts with their actuals; written by the hourly job, read-only here."""

    list_display = ["subject_kind", "subject_id", "horizon", "target", "yhat", "lower", "upper", "actual", "issued_at"]
    list_filter = ["subject_kind", "horizon"]
    date_hierarchy = "target"
    list_select_related = ["model_version"]
    readonly_fields = [f.name for f in Forecast._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TransformerRisk)
class TransformerRiskAdmin(admin.ModelAdmin):
    """Failure-risk scores per transformer and day, with their top factors."""

    list_display = ["transformer", "probability", "computed_at", "model_version"]
    list_select_related = ["transformer", "model_version"]
    date_hierarchy = "computed_at"
    search_fields = ["transformer__code"]
    readonly_fields = ["transformer", "model_version", "probability", "factors", "features", "computed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """Each scheduled run's duration and outcome."""

    list_display = ["job", "started_at", "seconds", "outcome"]
    list_filter = ["job", "outcome"]
    date_hierarchy = "started_at"
    readonly_fields = ["job", "started_at", "seconds", "outcome", "summary", "error"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
