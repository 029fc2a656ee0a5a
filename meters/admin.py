from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from meters.models import (
    AcademicPeriod,
    CarbonIntensity,
    DailyRollup,
    GatewayToken,
    Hostel,
    Incident,
    Meter,
    MeterEvent,
    Occupancy,
    QuarantinedReading,
    Reading,
    ReadingsUpload,
    RegisterReading,
    Room,
    Site,
    Weather,
)


class EstimatedCountPaginator(Paginator):
    """Counts a huge unfiltered table from PostgreSQL's statistics instead of scanning it."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [query.model._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] and row[0] > 100_000:
                return int(row[0])
        return super().count


def recent_period_filter(field: str) -> type[admin.SimpleListFilter]:
    """A cheap stand-in for date_hierarchy on tables of millions of rows.

    Django's date hierarchy lists the distinct months or days of the whole table, a full scan on
    35 million readings; these choices are index range scans on `field` instead.
    """

    class RecentPeriodFilter(admin.SimpleListFilter):
        title = "period"
        parameter_name = "period"
        spans = {
            "1h": dt.timedelta(hours=1),
            "24h": dt.timedelta(days=1),
            "7d": dt.timedelta(days=7),
            "30d": dt.timedelta(days=30),
        }

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return [("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days")]

        def queryset(self, request: HttpRequest, queryset: Any) -> Any:
            span = self.spans.get(self.value() or "")
            if span is None:
                return queryset
            return queryset.filter(**{f"{field}__gte": timezone.now() - span})

    return RecentPeriodFilter


class BigTableAdmin(admin.ModelAdmin):
    """Admin defaults for tables of millions of rows: no full counts, raw ids, estimated paging."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "timezone", "latitude", "longitude", "currency", "carbon_kg_per_kwh"]
    search_fields = ["code", "name"]


@admin.register(AcademicPeriod)
class AcademicPeriodAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "kind", "start", "end"]
    list_filter = ["site", "kind"]
    search_fields = ["name"]
    date_hierarchy = "start"


@admin.register(Hostel)
class HostelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "site", "floors"]
    list_filter = ["site"]
    search_fields = ["code", "name"]
    filter_horizontal = ["wardens"]
    autocomplete_fields = ["customer"]
    list_select_related = ["site"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["__str__", "hostel", "floor", "bed_type", "capacity"]
    list_filter = ["hostel", "bed_type", "floor"]
    search_fields = ["number", "hostel__code", "hostel__name"]
    autocomplete_fields = ["hostel", "customer"]
    list_select_related = ["hostel"]
    list_per_page = 50


class MeterEventInline(admin.TabularInline):
    model = MeterEvent
    fk_name = "meter"
    extra = 0
    fields = ["kind", "occurred_at", "replaces", "register_before", "register_after", "note", "recorded_by"]
    raw_id_fields = ["replaces"]
    readonly_fields = ["recorded_by"]
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ["serial", "kind", "hostel", "room", "interval_minutes", "register", "status", "last_reading_at"]
    list_filter = ["kind", "status", "register", "interval_minutes", "hostel"]
    search_fields = ["serial", "room__number", "hostel__code", "customer__account_code"]
    autocomplete_fields = ["hostel", "room", "customer", "transformer"]
    list_select_related = ["hostel", "room", "room__hostel"]
    readonly_fields = ["last_reading_at"]
    inlines = [MeterEventInline]
    list_per_page = 50


@admin.register(MeterEvent)
class MeterEventAdmin(admin.ModelAdmin):
    """The meter ledger: entries are added, never edited or deleted."""

    list_display = ["meter", "kind", "occurred_at", "replaces", "register_before", "register_after", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["meter__serial", "note"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["meter", "replaces"]
    list_select_related = ["meter", "replaces", "recorded_by"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Reading)
class ReadingAdmin(BigTableAdmin):
    list_display = ["meter", "timestamp", "kwh", "voltage", "current", "power_factor", "quality"]
    list_filter = [recent_period_filter("timestamp"), "quality"]
    search_fields = ["=meter__serial"]
    raw_id_fields = ["meter"]
    list_select_related = ["meter"]
    ordering = ["-timestamp"]


# Hourly rollups have no admin page: their primary key is (meter, hour), which Django's admin cannot
# register (docs/decisions/0008). They are derived from the readings, which have one, and shown on the
# meter, room and hostel pages.
@admin.register(DailyRollup)
class DailyRollupAdmin(BigTableAdmin):
    list_display = ["meter", "day", "kwh", "readings", "estimated", "peak_kw"]
    list_filter = [recent_period_filter("day")]
    search_fields = ["=meter__serial"]
    raw_id_fields = ["meter"]
    list_select_related = ["meter"]
    ordering = ["-day"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReadingsUpload)
class ReadingsUploadAdmin(admin.ModelAdmin):
    """Files confirmed on the upload page: each one's import, as its status page shows it (read only)."""

    list_display = ["filename", "user", "status", "rows_total", "attempts", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["filename", "user__username", "error"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]

    def view_on_site(self, obj: ReadingsUpload) -> str:
        return reverse("readings-upload-status", args=[obj.pk])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QuarantinedReading)
class QuarantinedReadingAdmin(BigTableAdmin):
    """Rejected rows: fix `raw` (or the meter, or its ledger), then re-process them."""

    list_display = ["source", "row_number", "meter_serial", "reason", "status", "sender_kind", "received_at"]
    list_filter = ["status", "sender_kind"]
    search_fields = ["meter_serial", "source", "reason"]
    date_hierarchy = "received_at"
    raw_id_fields = ["meter"]
    # The sender decides what re-processing may write: never editable.
    readonly_fields = [
        "source",
        "row_number",
        "reason",
        "received_at",
        "resolved_at",
        "sender_kind",
        "sender_gateway",
        "sender_user",
    ]
    actions = ["reprocess", "discard"]

    @admin.action(description="Re-process the selected rows")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[QuarantinedReading]) -> None:
        from meters.services import quarantine_reprocess

        result = quarantine_reprocess(ids=list(queryset.values_list("id", flat=True)))
        self.message_user(
            request,
            f"{result.accepted + result.updated + result.unchanged} stored, {result.rejected} still rejected.",
            messages.SUCCESS if not result.rejected else messages.WARNING,
        )

    @admin.action(description="Discard the selected rows")
    def discard(self, request: HttpRequest, queryset: QuerySet[QuarantinedReading]) -> None:
        from django.utils import timezone

        count = queryset.filter(status=QuarantinedReading.Status.PENDING).update(
            status=QuarantinedReading.Status.DISCARDED, resolved_at=timezone.now()
        )
        self.message_user(request, f"{count} rows discarded.")


@admin.register(RegisterReading)
class RegisterReadingAdmin(BigTableAdmin):
    list_display = ["meter", "timestamp", "index_kwh"]
    search_fields = ["=meter__serial"]
    date_hierarchy = "timestamp"
    raw_id_fields = ["meter"]
    list_select_related = ["meter"]
    ordering = ["-timestamp"]


@admin.register(GatewayToken)
class GatewayTokenAdmin(admin.ModelAdmin):
    """Gateway keys: the key is shown once, when the token is created or rotated."""

    list_display = ["name", "key_prefix", "hostel", "is_active", "expires_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "key_prefix"]
    raw_id_fields = ["meters"]
    readonly_fields = ["key_prefix", "last_used_at", "created_at"]
    actions = ["rotate"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from meters.authentication import key_generate, key_hash

        if not change:
            key = key_generate()
            obj.key_prefix, obj.key_hash = key[:8], key_hash(key)
            self.message_user(request, f"Gateway key (copy it now, it is not shown again): {key}", messages.WARNING)
        super().save_model(request, obj, form, change)

    @admin.action(description="Rotate the key of the selected gateways")
    def rotate(self, request: HttpRequest, queryset: QuerySet[GatewayToken]) -> None:
        from meters.services import gateway_token_rotate

        for token in queryset:
            key = gateway_token_rotate(token=token)
            self.message_user(request, f"New key for {token.name} (shown once): {key}", messages.WARNING)


@admin.register(Weather)
class WeatherAdmin(BigTableAdmin):
    list_display = ["site", "timestamp", "temperature_c", "humidity_pct", "rainfall_mm", "wind_kmh", "source"]
    list_filter = ["site", "source"]
    date_hierarchy = "timestamp"
    list_select_related = ["site"]
    ordering = ["-timestamp"]


@admin.register(Occupancy)
class OccupancyAdmin(BigTableAdmin):
    list_display = ["room", "start", "end", "occupants", "source"]
    list_filter = ["source", "room__hostel"]
    search_fields = ["room__number", "room__hostel__code"]
    date_hierarchy = "start"
    autocomplete_fields = ["room"]
    list_select_related = ["room", "room__hostel"]


@admin.register(Incident)
class IncidentAdmin(BigTableAdmin):
    list_display = ["meter", "kind", "start", "end", "magnitude", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["=meter__serial", "note"]
    date_hierarchy = "start"
    raw_id_fields = ["meter"]
    list_select_related = ["meter"]


@admin.register(CarbonIntensity)
class CarbonIntensityAdmin(BigTableAdmin):
    list_display = ["site", "timestamp", "kg_per_kwh"]
    list_filter = ["site"]
    date_hierarchy = "timestamp"
    list_select_related = ["site"]
    ordering = ["-timestamp"]
