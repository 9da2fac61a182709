"""Admin of the service app: the service levels are edited here (through ``service.services.service_level_save``);
tickets and their comments, files and history are read-only (they are worked on the ticket pages, through the
services, which keep the due dates and the history in step)."""

from django.contrib import admin

from prm.admin import ReadOnlyAdminMixin
from service.models import ServiceLevel, Ticket, TicketAttachment, TicketComment, TicketStatusChange
from service.services import service_level_save


@admin.register(ServiceLevel)
class ServiceLevelAdmin(admin.ModelAdmin):
    """One row per priority (created by the data migration): neither added nor deleted, only changed."""

    list_display = ["priority", "first_response_minutes", "resolution_minutes", "updated_at"]
    fields = ["priority", "first_response_minutes", "resolution_minutes"]
    readonly_fields = ["priority"]

    def save_model(self, request, obj, form, change):
        service_level_save(level=obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CommentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TicketComment
    extra = 0
    fields = ["created_at", "author", "internal", "body"]


class AttachmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TicketAttachment
    extra = 0
    fields = ["created_at", "original_name", "content_type", "size", "uploaded_by"]


class HistoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TicketStatusChange
    extra = 0
    fields = ["changed_at", "field", "from_value", "to_value", "note", "changed_by"]


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: open, comment and change tickets on their pages (/tickets/)."""

    list_display = ["id", "subject", "customer", "priority", "status", "assignee", "resolution_due_at", "created_at"]
    list_filter = ["status", "priority", "type"]
    list_select_related = ["customer", "assignee"]
    search_fields = ["=id", "subject", "customer__name"]
    raw_id_fields = ["customer", "assignee", "created_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [HistoryInline, CommentInline, AttachmentInline]
