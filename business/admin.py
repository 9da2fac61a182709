from django.contrib import admin

from business import admin_rules  # noqa: F401  (registers the inactivity-rules admin)
from business.admin_views import ServiceImportMixin
from business.models import Achievement, Parameter, Target, UploadBatch
from business.resources import AchievementResource, TargetResource
from prm.admin import ReadOnlyAdminMixin


@admin.register(Parameter)
class ParameterAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "unit", "frequency", "source", "is_system", "is_active", "order"]
    list_filter = ["frequency", "source", "is_system", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["is_system"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_system:
            return ["code", "frequency", "source", "is_system"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_system


class PeriodValueAdmin(ReadOnlyAdminMixin, ServiceImportMixin, admin.ModelAdmin):
    """Targets and achievements: changelist, upload (import with preview, through business.imports) and export
    (formula-safe). Rows are written by the import, the metrics and the partner form's targets, never edited here:
    an edit here would bypass provenance (source, upload batch)."""

    list_display = ["partner", "parameter", "period_start", "value", "upload_batch", "updated_at"]
    list_filter = ["parameter", "period_start"]
    search_fields = ["partner__name", "partner__code"]
    list_select_related = ["partner", "parameter", "upload_batch"]
    raw_id_fields = ["partner", "upload_batch"]
    date_hierarchy = "period_start"
    show_full_result_count = False


@admin.register(Target)
class TargetAdmin(PeriodValueAdmin):
    import_kind = UploadBatch.Kind.TARGETS
    resource_classes = [TargetResource]
    raw_id_fields = [*PeriodValueAdmin.raw_id_fields, "set_by"]


@admin.register(Achievement)
class AchievementAdmin(PeriodValueAdmin):
    import_kind = UploadBatch.Kind.ACHIEVEMENTS
    resource_classes = [AchievementResource]
    list_display = [*PeriodValueAdmin.list_display, "source"]
    list_filter = [*PeriodValueAdmin.list_filter, "source"]


@admin.register(UploadBatch)
class UploadBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """An audit trail: written by the import service only, never added, changed or deleted here."""

    list_display = [
        "created_at", "kind", "source", "status", "file_name", "uploaded_by",
        "rows_total", "rows_created", "rows_updated", "rows_unchanged",
    ]
    list_filter = ["kind", "source", "status"]
    list_select_related = ["uploaded_by"]
    readonly_fields = [f.name for f in UploadBatch._meta.fields]
