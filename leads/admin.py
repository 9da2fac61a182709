from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from leads.customer_services import EDITABLE_FIELDS as CUSTOMER_FIELDS
from leads.customer_services import customer_save, segment_delete, segment_save
from leads.models import Customer, CustomerContact, CustomerLocation, CustomerSegment, Lead, LeadStageChange
from leads.services import EDITABLE_FIELDS, lead_convert, lead_create, lead_update
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
    actions = ["convert"]  # losing a lead needs its reason: from the lead's page (/leads/<id>/)

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

    def _apply(self, request, queryset, action, verb):
        done, skipped = 0, 0
        for lead in queryset:
            try:
                action(lead)
                done += 1
            except ValidationError:
                skipped += 1
        self.message_user(request, f"{done} leads {verb}; {skipped} skipped (already closed).")


class CustomerContactInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CustomerContact
    extra = 0
    fields = ["kind", "value", "label", "is_primary"]


class CustomerLocationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CustomerLocation
    extra = 0
    fields = ["label", "address", "latitude", "longitude", "is_primary"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customers are created by converting a lead (leads.services.lead_convert) and never deleted. The profile fields
    can be changed here, through ``leads.customer_services.customer_update`` (a new segment moves the due date);
    contacts and locations are edited on the customer's page."""

    list_display = ["name", "company", "segment", "partner", "assigned_to", "engagement_due_at", "created_at"]
    list_filter = ["segment"]
    list_select_related = ["segment", "partner", "assigned_to"]
    search_fields = ["name", "company", "email", "partner__name", "partner__code"]
    raw_id_fields = ["partner", "assigned_to"]
    fields = [*CUSTOMER_FIELDS, "partner", "lead", "last_engaged_at", "next_engagement_at", "engagement_due_at",
              "created_at", "updated_at"]
    readonly_fields = ["partner", "lead", "last_engaged_at", "next_engagement_at", "engagement_due_at", "created_at",
                       "updated_at"]
    inlines = [CustomerContactInline, CustomerLocationInline]
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # "acme.com" → https://acme.com

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Through the service: only the editable fields, compared with the stored row."""
        values = {name: form.cleaned_data[name] for name in CUSTOMER_FIELDS if name in form.cleaned_data}
        customer_save(customer=obj, by=request.user, fields=values)


@admin.register(CustomerSegment)
class CustomerSegmentAdmin(admin.ModelAdmin):
    """How often each group of customers is engaged. Saving a new frequency (or a new default) moves the due dates of
    the customers it applies to, set-based (``leads.customer_services.segment_save``)."""

    list_display = ["name", "engage_every_days", "is_default"]

    def save_model(self, request, obj, form, change):
        segment_save(segment=obj)

    def delete_model(self, request, obj):
        self._delete(request, obj)

    def delete_queryset(self, request, queryset):
        for segment in queryset:
            self._delete(request, segment)

    def _delete(self, request, segment):
        try:
            moved = segment_delete(segment=segment)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), level=messages.ERROR)
        else:
            self.message_user(request, f"“{segment}” deleted: {moved} customers now follow the default segment.")
