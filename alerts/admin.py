from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from alerts.models import (
    Alert,
    AlertComment,
    AlertEvent,
    DailySummary,
    EmailDelivery,
    EscalationPolicy,
    NotificationPreference,
    NotificationRule,
    PushDelivery,
    PushSubscription,
    SeverityRule,
    SuppressionWindow,
    WebhookDelivery,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit and delivery records: looked at, never edited."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    can_delete = False
    fields = ("at", "actor", "action", "from_status", "to_status", "detail")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AlertCommentInline(admin.TabularInline):
    model = AlertComment
    extra = 0
    fields = ("author", "body", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Read-mostly: changes of status go through the inbox so they are audited."""

    list_display = ["id", "title", "kind", "severity", "status", "hostel", "room", "occurrences", "last_seen_at"]
    list_filter = ["status", "severity", "kind", "hostel", "escalation_level"]
    search_fields = ["title", "dedupe_key"]
    list_select_related = ["hostel", "room__hostel"]
    date_hierarchy = "opened_at"
    readonly_fields = [field.name for field in Alert._meta.fields]
    inlines = [AlertCommentInline, AlertEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AlertEvent)
class AlertEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "alert", "at", "actor", "action", "from_status", "to_status", "pushed"]
    list_filter = ["action", "pushed"]
    list_select_related = ["alert", "actor"]
    search_fields = ["alert__title"]


@admin.register(AlertComment)
class AlertCommentAdmin(ReadOnlyAdmin):
    list_display = ["id", "alert", "author", "created_at"]
    list_select_related = ["alert", "author"]


@admin.register(SeverityRule)
class SeverityRuleAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "min_score", "min_excess_cost", "severity"]
    list_filter = ["kind", "severity"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["severity", "minutes"]


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "hostel", "email", "min_severity", "webhook_format", "webhook_url", "active"]
    list_filter = ["email", "min_severity", "webhook_format", "active", "hostel"]
    list_select_related = ["user", "hostel"]
    autocomplete_fields = ["user"]


@admin.register(SuppressionWindow)
class SuppressionWindowAdmin(admin.ModelAdmin):
    list_display = ["id", "hostel", "room", "reason", "starts_at", "ends_at", "note"]
    list_filter = ["reason", "hostel"]
    list_select_related = ["hostel", "room__hostel"]
    raw_id_fields = ["room"]


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["key", "alert", "address", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["key", "alert", "url", "status", "attempts", "response_code", "sent_at", "last_error"]
    list_filter = ["status", "response_code"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    """Each person sets their own on the Notifications page; shown here to answer "why did I not hear?"."""

    list_display = ["user", "email", "push", "min_severity", "quiet_start", "quiet_end", "daily_summary", "time_zone"]
    list_select_related = ["user"]


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "user_agent", "created_at", "last_sent_at"]
    list_select_related = ["user"]
    readonly_fields = ["user", "endpoint", "p256dh", "auth", "user_agent", "created_at", "last_sent_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PushDelivery)
class PushDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["key", "alert", "recipient", "status", "attempts", "response_code", "not_before", "sent_at"]
    list_filter = ["status", "response_code"]


@admin.register(DailySummary)
class DailySummaryAdmin(ReadOnlyAdmin):
    list_display = ["key", "recipient", "day", "emailed_at", "pushed_at"]
