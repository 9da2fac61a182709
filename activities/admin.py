from django.contrib import admin

from activities.models import Activity
from prm.admin import ReadOnlyAdminMixin


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: every change must keep the partner's (or customer's) engagement dates in step, which their pages do
    through activities.services (an add or delete here would leave last/next engagement stale)."""

    list_display = ["start_at", "partner", "customer", "kind", "mode", "status", "owner", "duration_minutes"]
    list_filter = ["mode", "status", "kind"]
    list_select_related = ["partner", "customer", "owner"]
    search_fields = ["partner__name", "partner__code", "customer__name", "subject"]
    raw_id_fields = ["partner", "customer", "lead", "location", "owner"]
    date_hierarchy = "start_at"
    show_full_result_count = False
    readonly_fields = ["completed_at", "closed_by", "created_at", "updated_at"]
