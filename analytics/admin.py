"""Interventions (logged by managers, measured on demand), targets, residents' pages and digest subscriptions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages

from analytics.models import DigestSubscription, HostelTarget, Intervention, PublicHostelPage
from analytics.savings.services import intervention_measure, intervention_measure_request

# Changing one of these changes what is measured: the row is measured again (queued, after commit).
MEASURED_FIELDS = {"start", "meter", "hostel", "site"}


@admin.register(Intervention)
class InterventionAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "where",
        "start",
        "expected_saving_fraction",
        "savings_fraction",
        "fraction_low",
        "fraction_high",
        "baseline_cv_rmse",
        "measured_at",
    ]
    list_filter = ["site", "hostel"]
    search_fields = ["title", "description", "meter__serial", "hostel__name", "site__code"]
    autocomplete_fields = ["meter", "hostel", "site"]
    readonly_fields = [
        "savings_kwh",
        "savings_fraction",
        "fraction_low",
        "fraction_high",
        "baseline_cv_rmse",
        "baseline_nmbe",
        "baseline_holdout_error",
        "measured_at",
        "measured_until",
        "measure_error",
        "created_by",
        "created_at",
    ]
    actions = ["measure"]

    def save_model(self, request: Any, obj: Intervention, form: Any, change: bool) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change or MEASURED_FIELDS & set(form.changed_data):
            intervention_measure_request(intervention_id=obj.pk)

    @admin.action(description="Measure the savings now")
    def measure(self, request: Any, queryset: Any) -> None:
        for intervention in queryset:
            if intervention_measure(intervention=intervention) is None:
                self.message_user(request, f"{intervention}: {intervention.measure_error}", messages.WARNING)
        self.message_user(request, f"Measured {queryset.count()} intervention(s).")


@admin.register(HostelTarget)
class HostelTargetAdmin(admin.ModelAdmin):
    list_display = ["hostel", "kwh_per_bed_day", "set_by", "updated_at"]
    readonly_fields = ["set_by", "updated_at"]


@admin.register(PublicHostelPage)
class PublicHostelPageAdmin(admin.ModelAdmin):
    list_display = ["hostel", "enabled", "address", "updated_at"]
    list_editable = ["enabled"]
    readonly_fields = ["address", "updated_at"]

    @admin.display(description="Address")
    def address(self, page: PublicHostelPage) -> str:
        return f"/residents/{page.token}/"


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "subscribed", "last_sent_week", "updated_at"]
    list_filter = ["subscribed"]
