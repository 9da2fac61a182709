"""Admin for the inactivity rules (one row, edited in place)."""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from business.models import InactivityRule


@admin.register(InactivityRule)
class InactivityRuleAdmin(admin.ModelAdmin):
    fieldsets = [
        ("Engagement", {"fields": ["engagement_enabled", "grace_factor"]}),
        ("Business", {"fields": ["business_enabled", "business_parameter", "business_minimum"]}),
    ]
    list_display = ["__str__", "engagement_enabled", "grace_factor", "business_enabled", "business_parameter",
                    "business_minimum", "updated_at"]
    list_select_related = ["business_parameter"]

    def changelist_view(self, request, extra_context=None):
        """There is one row: go straight to its form."""
        rule = InactivityRule.load()
        return HttpResponseRedirect(reverse("admin:business_inactivityrule_change", args=[rule.pk]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
