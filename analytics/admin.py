"""Targets, residents' pages and digest subscriptions in the admin."""

from django.contrib import admin

from analytics.models import DigestSubscription, HostelTarget, PublicHostelPage


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
