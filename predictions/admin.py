from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from predictions.models import ModelVersion


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
