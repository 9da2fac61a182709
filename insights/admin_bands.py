"""Admin of the tiers' expected business bands (rule 7). Imported by insights/admin.py. Writes go through
``insights.tier_review`` (``tier_band_save`` / ``tier_band_delete``); the model's ``clean`` and constraints give the
messages: no negative values, low ≤ high, one band per tier and parameter."""

from django.contrib import admin

from insights.models import TierBand
from insights.tier_review import tier_band_delete, tier_band_save


@admin.register(TierBand)
class TierBandAdmin(admin.ModelAdmin):
    list_display = ["tier", "parameter", "low", "high"]
    list_filter = ["tier", "parameter"]
    list_select_related = ["tier", "parameter"]
    ordering = ["tier__rank", "parameter__order", "parameter__name"]

    def save_model(self, request, obj, form, change):
        tier_band_save(band=obj if change else None, tier=obj.tier, parameter=obj.parameter, low=obj.low,
                       high=obj.high)

    def delete_model(self, request, obj):
        tier_band_delete(bands=[obj.pk])

    def delete_queryset(self, request, queryset):
        tier_band_delete(bands=list(queryset.values_list("pk", flat=True)))
