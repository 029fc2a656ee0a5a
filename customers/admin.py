from django.contrib import admin

from customers.models import Customer, Segment, Tariff, TariffBand, Transformer, TransformerEvent


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
