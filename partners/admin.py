"""Admin of the partners app. Every write goes through partners.services; history rows are read-only."""

from django.contrib import admin
from django.db import models
from import_export import fields, resources
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX

from partners.exports import FormulaSafeResourceMixin
from partners.models import CodeChange, ContactPoint, Location, Partner, ProfileField, StatusChange, Tier
from partners.services import (
    EDITABLE_FIELDS,
    partner_create,
    partner_set_status,
    partner_update,
    partners_hand_to_rules,
    tier_save,
)
from prm.admin import ReadOnlyAdminMixin


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "rank", "engage_every_days"]

    def save_model(self, request, obj, form, change):
        tier_save(tier=obj)  # a new frequency moves the due dates of the tier's partners (set-based)

    def has_delete_permission(self, request, obj=None):
        return False  # partners point at tiers (PROTECT); rename or re-rank instead


@admin.register(ProfileField)
class ProfileFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "kind", "required", "order"]
    list_editable = ["order"]


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows edited elsewhere (the partner page) or history: shown, never changed here."""

    extra = 0


class ContactPointInline(ReadOnlyInline):
    model = ContactPoint
    fields = ["kind", "value", "label", "is_primary"]


class LocationInline(ReadOnlyInline):
    model = Location
    fields = ["label", "address", "latitude", "longitude", "is_primary"]


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = ["changed_at", "from_status", "to_status", "set_by", "reason", "changed_by"]
    ordering = ["-changed_at"]


class CodeChangeInline(ReadOnlyInline):
    model = CodeChange
    fields = ["changed_at", "old_code", "new_code", "changed_by"]
    ordering = ["-changed_at"]


class PartnerResource(FormulaSafeResourceMixin, resources.ModelResource):
    """Partner export; every text cell is escaped against spreadsheet formula injection."""

    tier = fields.Field(attribute="tier__name", column_name="tier", readonly=True)
    assigned_to = fields.Field(attribute="assigned_to__username", column_name="assigned_to", readonly=True)

    class Meta:
        model = Partner
        name = "Partners"
        fields = (
            "code", "name", "kind", "tier", "status", "status_reason", "status_set_by", "assigned_to",
            "business_potential", "website", "last_engaged_at", "next_engagement_at", "created_at",
        )
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("tier", "assigned_to")


@admin.register(Partner)
class PartnerAdmin(ExportMixin, admin.ModelAdmin):
    """Managers edit a partner's main fields here — the code too, which the partner pages keep fixed (each change is
    recorded as a CodeChange row). Contacts, locations and targets are edited on the partner page."""

    resource_classes = [PartnerResource]
    export_formats = [CSV, XLSX]
    list_display = ["name", "code", "tier", "status", "assigned_to", "last_engaged_at", "next_engagement_at"]
    list_filter = ["status", "tier", "kind", "status_set_by"]
    search_fields = ["name", "code", "contact_points__value"]
    list_select_related = ["tier", "assigned_to"]
    raw_id_fields = ["assigned_to"]
    fields = [
        "code", "name", "kind", "tier", "assigned_to", "business_potential", "website", "notes", "profile",
        "status", "status_reason", "status_set_by", "status_changed_at",
        "last_engaged_at", "next_engagement_at", "engagement_due_at", "created_at", "updated_at",
    ]
    readonly_fields = [
        "status", "status_reason", "status_set_by", "status_changed_at",
        "last_engaged_at", "next_engagement_at", "engagement_due_at", "created_at", "updated_at",
    ]
    inlines = [ContactPointInline, LocationInline, StatusChangeInline, CodeChangeInline]
    actions = ["mark_active", "mark_inactive", "hand_status_to_rules"]
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a typed "example.com" is https

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            partner_update(partner=Partner.objects.get(pk=obj.pk), by=request.user, **values)
        else:
            obj.pk = partner_create(by=request.user, **values).pk

    def has_delete_permission(self, request, obj=None):
        return False  # partners stay forever: mark them inactive

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset.distinct() if may_have_duplicates else queryset, False

    @admin.action(description="Mark selected partners active (by hand)")
    def mark_active(self, request, queryset):
        self._set_status(request, queryset, Partner.Status.ACTIVE)

    @admin.action(description="Mark selected partners inactive (by hand)")
    def mark_inactive(self, request, queryset):
        self._set_status(request, queryset, Partner.Status.INACTIVE)

    @admin.action(description="Let the inactivity rules decide the status of the selected partners")
    def hand_status_to_rules(self, request, queryset):
        count = partners_hand_to_rules(partner_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} partners are now tagged by the rules (next run of tag_inactive_partners).")

    def _set_status(self, request, queryset, status):
        partners = list(queryset)
        for partner in partners:
            partner_set_status(partner=partner, status=status, reason=f"Set in admin by {request.user}", by=request.user)
        self.message_user(request, f"{len(partners)} partners marked {status}.")


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["changed_at", "partner", "from_status", "to_status", "set_by", "reason", "changed_by"]
    list_filter = ["set_by", "to_status"]
    list_select_related = ["partner", "changed_by"]
    search_fields = ["partner__name", "partner__code"]
    date_hierarchy = "changed_at"
    show_full_result_count = False
