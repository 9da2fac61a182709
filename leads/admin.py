from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError

from leads.models import Customer, Lead, LeadStageChange
from leads.services import EDITABLE_FIELDS, lead_convert, lead_create, lead_lose, lead_update
from prm.admin import ReadOnlyAdminMixin


class LeadStageChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LeadStageChange
    extra = 0
    fields = ["changed_at", "from_stage", "to_stage", "changed_by"]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["name", "partner", "stage", "expected_value", "value", "assigned_to", "created_at", "converted_at"]
    list_filter = ["stage"]
    list_select_related = ["partner", "assigned_to"]
    search_fields = ["name", "company", "email", "partner__name", "partner__code"]
    raw_id_fields = ["partner", "assigned_to"]
    readonly_fields = ["stage", "value", "converted_at", "lost_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [LeadStageChangeInline]
    show_full_result_count = False
    actions = ["convert", "lose"]

    fields = [*EDITABLE_FIELDS, "stage", "value", "converted_at", "lost_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        """Through leads.services: a new lead gets its first history row, an edit changes the editable fields only."""
        values = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            lead = Lead.objects.get(pk=obj.pk)
            lead_update(lead=lead, by=request.user, **values)
        else:
            lead = lead_create(by=request.user, **values)
        obj.pk = lead.pk  # the admin's redirect and messages use obj

    def delete_model(self, request, obj):
        raise PermissionDenied  # leads are business history: lose them instead

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Convert selected leads (creates customers)")
    def convert(self, request, queryset):
        self._apply(request, queryset, lambda lead: lead_convert(lead=lead, by=request.user), "converted")

    @admin.action(description="Mark selected leads lost")
    def lose(self, request, queryset):
        self._apply(request, queryset, lambda lead: lead_lose(lead=lead, by=request.user), "marked lost")

    def _apply(self, request, queryset, action, verb):
        done, skipped = 0, 0
        for lead in queryset:
            try:
                action(lead)
                done += 1
            except ValidationError:
                skipped += 1
        self.message_user(request, f"{done} leads {verb}; {skipped} skipped (already closed).")


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: customers are created by converting a lead (leads.services.lead_convert)."""

    list_display = ["name", "company", "partner", "assigned_to", "created_at"]
    list_select_related = ["partner", "assigned_to"]
    search_fields = ["name", "company", "email", "partner__name"]
    raw_id_fields = ["lead", "partner", "assigned_to"]
    show_full_result_count = False
