"""Webhook subscriptions per survey, and a read-only log of their deliveries."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ..models import WebhookDelivery, WebhookSubscription


class RecentDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("created_at", "event", "status", "attempts", "response_code", "last_error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "Recent deliveries (see the delivery log for all)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).order_by("-created_at")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "survey", "events", "active", "created_at")
    list_filter = ("active",)
    list_select_related = ("survey",)
    search_fields = ("url", "survey__title", "survey__slug")
    autocomplete_fields = ("survey",)
    fields = ("survey", "url", "events", "active", "secret")
    inlines = [RecentDeliveryInline]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event", "subscription", "status", "attempts", "response_code")
    list_filter = ("status", "event")
    list_select_related = ("subscription", "subscription__survey")
    fields = (
        *("subscription", "event", "status", "attempts", "response_code"),
        *("last_error", "created_at", "delivered_at", "payload"),
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # deliveries come from events, never typed in

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
