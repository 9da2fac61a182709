"""CRM sync in the admin: read-only (connections and mappings are changed on /settings/crm/ through
integrations.services; the encrypted credentials are never shown)."""

from django.contrib import admin

from integrations.models import Connection, ExternalRef, FieldMapping, SyncLog, SyncRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "status", "last_success_at", "failures", "next_attempt_at"]
    fields = ["name", "kind", "instance_url", "status", "status_message", "last_success_at", "failures",
              "next_attempt_at", "running_until", "created_at", "updated_at"]
    readonly_fields = fields


@admin.register(FieldMapping)
class FieldMappingAdmin(ReadOnlyAdmin):
    list_display = ["connection", "object", "local_field", "remote_field", "direction", "apply_on", "conflict_rule"]
    list_select_related = ["connection"]


@admin.register(ExternalRef)
class ExternalRefAdmin(ReadOnlyAdmin):
    list_display = ["connection", "object", "local_id", "remote_id", "remote_modified_at", "deleted_remotely"]
    list_select_related = ["connection"]
    search_fields = ["=remote_id", "=local_id"]
    show_full_result_count = False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["connection", "kind", "status", "started_at", "finished_at", "received", "created", "updated",
                    "skipped", "errors"]
    list_select_related = ["connection"]
    list_filter = ["kind", "status"]


@admin.register(SyncLog)
class SyncLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "connection", "object", "record", "direction", "error_code"]
    list_select_related = ["connection"]
    list_filter = ["error_code", "direction"]
    search_fields = ["=record"]
    show_full_result_count = False
