"""Admin of the library: read-only. Categories, tags and resources are written by ``library.services`` (which keeps the
search document, the category depth, file checks and the audience's feed in step) from the staff pages at /library/;
here they are listed and viewed. Every changelist selects its related rows in the same query."""

from django.contrib import admin

from library.models import Category, Resource, Tag
from prm.admin import ReadOnlyAdminMixin


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "parent", "order"]
    list_select_related = ["parent"]
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Resource)
class ResourceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "kind", "category", "version", "published", "published_at", "download_count"]
    list_filter = ["kind", "published"]
    list_select_related = ["category"]
    search_fields = ["title"]
    exclude = ["search"]
    raw_id_fields = ["partners"]
