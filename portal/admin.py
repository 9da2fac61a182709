"""Admin of the portal: read-mostly. Deal protection per tier and partners' e-mail domains are edited here, through
``portal.people_services`` (``deal_protection_save``, ``partner_domain_save``); every other portal row is written by
the portal's pages and services (which keep their history, emails and the feed in step), so it is listed and viewed
only. Invitations never show their token's hash. Every changelist selects its related rows in the same query."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models

from portal.models import (
    AccessRequest,
    Announcement,
    AnnouncementRead,
    DealEvent,
    DealProtection,
    DealRegistration,
    Invitation,
    Membership,
    PartnerDomain,
    PortalEvent,
    ProfileUpdate,
    SharedLead,
)
from portal.people_services import (
    DOMAIN_RE,
    deal_protection_save,
    normalise_domain,
    partner_domain_delete,
    partner_domain_save,
)
from prm.admin import ReadOnlyAdminMixin


@admin.register(DealProtection)
class DealProtectionAdmin(admin.ModelAdmin):
    """Days an approved registration protects the deal, per tier (a tier without a row: DEAL_PROTECTION_DAYS)."""

    list_display = ["tier", "days", "extension_days"]
    list_select_related = ["tier"]
    ordering = ["tier__rank"]

    def save_model(self, request, obj, form, change):
        deal_protection_save(protection=obj)


class PartnerDomainForm(admin.ModelAdmin.form):
    def clean_domain(self):
        domain = normalise_domain(self.cleaned_data["domain"])
        if not DOMAIN_RE.match(domain):
            raise ValidationError("Enter a domain like example.com.")
        return domain


@admin.register(PartnerDomain)
class PartnerDomainAdmin(admin.ModelAdmin):
    """E-mail domains that let people ask to join a partner (its admins decide)."""

    form = PartnerDomainForm
    list_display = ["domain", "partner"]
    list_select_related = ["partner"]
    search_fields = ["domain", "partner__name", "partner__code"]
    raw_id_fields = ["partner"]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        partner_domain_save(domain=obj)

    def delete_model(self, request, obj):
        partner_domain_delete(domain=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for domain in queryset:
            partner_domain_delete(domain=domain, by=request.user)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: partner admins manage their colleagues in the portal; staff invite on the partner's page."""

    list_display = ["user", "partner", "role", "is_active", "created_at", "deactivated_at"]
    list_filter = ["role", "is_active"]
    list_select_related = ["user", "partner"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name", "partner__name",
                     "partner__code"]
    raw_id_fields = ["user", "partner", "invited_by"]
    show_full_result_count = False


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only, and never the token's hash."""

    list_display = ["email", "partner", "role", "created_at", "expires_at", "accepted_at", "revoked_at", "emailed_at",
                    "email_attempts"]
    list_filter = ["role", ("accepted_at", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter),
                   ("emailed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["partner"]
    search_fields = ["email", "name", "partner__name", "partner__code"]
    exclude = ["token_hash"]
    raw_id_fields = ["partner", "invited_by", "accepted_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["email", "name", "partner", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["partner"]
    search_fields = ["email", "name", "partner__name"]
    raw_id_fields = ["partner", "decided_by"]
    show_full_result_count = False


class DealEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DealEvent
    extra = 0
    fields = ["at", "status", "note", "by"]


@admin.register(DealRegistration)
class DealRegistrationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: partners register and staff review deals on their pages."""

    list_display = ["number", "company", "domain", "partner", "status", "reviewer", "submitted_at",
                    "protection_expires_at"]
    list_filter = ["status", "stage", "currency"]
    list_select_related = ["partner", "reviewer"]
    search_fields = ["=id", "company", "domain", "partner__name", "contact_email"]
    raw_id_fields = ["partner", "created_by", "reviewer", "decided_by", "lead"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [DealEventInline]


@admin.register(SharedLead)
class SharedLeadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["lead", "partner", "status", "offered_at", "respond_by", "follow_up_by", "shared_by"]
    list_filter = ["status"]
    list_select_related = ["lead", "partner", "shared_by"]
    search_fields = ["lead__name", "lead__company", "partner__name"]
    raw_id_fields = ["lead", "partner", "shared_by", "responded_by"]
    show_full_result_count = False


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["title", "to_all", "published_at", "created_by"]
    list_filter = ["to_all"]
    list_select_related = ["created_by"]
    search_fields = ["title", "body"]
    raw_id_fields = ["created_by", "partners"]
    date_hierarchy = "published_at"
    show_full_result_count = False


@admin.register(AnnouncementRead)
class AnnouncementReadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["announcement", "user", "read_at"]
    list_select_related = ["announcement", "user"]
    search_fields = ["announcement__title", "user__username"]
    raw_id_fields = ["announcement", "user"]
    show_full_result_count = False


@admin.register(PortalEvent)
class PortalEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "partner", "kind", "title", "actor"]
    list_filter = ["kind"]
    list_select_related = ["partner", "actor"]
    search_fields = ["title", "partner__name", "source_key"]
    raw_id_fields = ["partner", "actor"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(ProfileUpdate)
class ProfileUpdateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the assigned rep approves or rejects updates on the staff pages."""

    list_display = ["partner", "status", "submitted_by", "created_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["partner", "submitted_by", "decided_by"]
    search_fields = ["partner__name", "partner__code"]
    raw_id_fields = ["partner", "submitted_by", "decided_by"]
    show_full_result_count = False
