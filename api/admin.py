"""API keys in the admin: read-only (keys are made and revoked on /settings/api-keys/ through api.services)."""

from django.contrib import admin

from api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "owner", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_select_related = ["owner"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "owner__username"]
    fields = ["name", "prefix", "owner", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
