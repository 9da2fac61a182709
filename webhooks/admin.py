"""Webhooks in the admin: read-only (endpoints are managed on /settings/webhooks/ through webhooks.services; the
encrypted secret is never shown)."""

from django.contrib import admin

from webhooks.models import Delivery, Endpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "owner", "is_active", "failing_since", "disabled_at", "created_at"]
    list_select_related = ["owner"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "owner__username"]
    fields = ["url", "description", "owner", "events", "is_active", "failing_since", "disabled_at", "disabled_reason",
              "secret_rotated_at", "created_at", "updated_at"]
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "endpoint", "topic", "state", "attempts", "last_status", "next_attempt_at",
                    "created_at"]
    list_select_related = ["endpoint"]
    list_filter = ["state"]
    search_fields = ["=message_id"]
    show_full_result_count = False
    fields = ["message_id", "endpoint", "event_id", "topic", "state", "attempts", "next_attempt_at",
              "last_attempt_at", "last_status", "last_error", "last_duration_ms", "delivered_at", "occurred_at",
              "created_at", "payload"]
    readonly_fields = fields
