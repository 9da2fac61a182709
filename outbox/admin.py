"""Read-only views of the outbox for ops (writes go through outbox.services only)."""

from django.contrib import admin

from outbox.models import Event, Tombstone


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(_ReadOnly):
    list_display = ("id", "topic", "subject_type", "subject_id", "occurred_at", "pending_for")
    list_filter = ("topic",)
    show_full_result_count = False


@admin.register(Tombstone)
class TombstoneAdmin(_ReadOnly):
    list_display = ("id", "subject_type", "subject_id", "deleted_at")
    list_filter = ("subject_type",)
    show_full_result_count = False
