from typing import Any

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.http import HttpRequest

from customers.models import (
    AuditEntry,
    Customer,
    Segment,
    Tariff,
    TariffBand,
    Transformer,
    TransformerCondition,
    TransformerEvent,
)


class TariffBandInline(admin.TabularInline):
    model = TariffBand
    extra = 0


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "price_per_kwh", "currency", "standing_charge_per_day"]
    list_filter = ["kind", "currency"]
    search_fields = ["name"]
    inlines = [TariffBandInline]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "expected_saving_pct", "updated_at"]
    search_fields = ["name", "code"]
    readonly_fields = ["updated_at"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "account_code",
        "name",
        "kind",
        "tariff",
        "segment",
        "has_solar",
        "has_ev_charging",
        "demand_response_opt_in",
    ]
    list_filter = ["kind", "has_solar", "has_ev_charging", "demand_response_opt_in", "segment", "tariff"]
    search_fields = ["account_code", "name", "email"]
    list_select_related = ["tariff", "segment"]
    autocomplete_fields = ["tariff", "segment"]
    list_per_page = 50


class TransformerEventInline(admin.TabularInline):
    model = TransformerEvent
    extra = 0
    fields = ["kind", "occurred_at", "description", "oil_temperature_c", "recorded_by"]
    readonly_fields = ["recorded_by"]
    ordering = ["-occurred_at"]


@admin.register(Transformer)
class TransformerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "capacity_kva", "installed_year", "status", "location"]
    list_filter = ["status", "installed_year"]
    search_fields = ["code", "name", "location"]
    inlines = [TransformerEventInline]


@admin.register(TransformerCondition)
class TransformerConditionAdmin(admin.ModelAdmin):
    list_display = ["transformer", "measured_at", "top_oil_c", "dissolved_gas_ppm", "source"]
    list_filter = ["transformer"]
    search_fields = ["transformer__code", "source"]
    date_hierarchy = "measured_at"
    autocomplete_fields = ["transformer"]
    list_select_related = ["transformer"]
    list_per_page = 100


@admin.register(TransformerEvent)
class TransformerEventAdmin(admin.ModelAdmin):
    list_display = ["transformer", "kind", "occurred_at", "recorded_by", "recorded_at"]
    list_filter = ["kind"]
    search_fields = ["transformer__code", "description"]
    date_hierarchy = "occurred_at"
    autocomplete_fields = ["transformer"]
    readonly_fields = ["recorded_by", "recorded_at"]
    list_select_related = ["transformer", "recorded_by"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(admin.ModelAdmin):
    """An audit trail is read, never written, from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "target"]
    list_filter = ["action", "at"]
    search_fields = ["actor_label", "target"]
    date_hierarchy = "at"


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    """Configuration changes made in the admin (Django's own log), visible to admins."""

    list_display = ["action_time", "user", "content_type", "object_repr", "action_flag", "change_message"]
    list_filter = ["action_flag", "content_type", "action_time"]
    search_fields = ["object_repr", "change_message", "user__username"]
    date_hierarchy = "action_time"
