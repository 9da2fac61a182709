"""Admin of the insights app: the rules (configured, never added or deleted: a data migration creates the seven) and
the insights (read-only: reps react on their pages). The tiers' bands are registered in insights.admin_bands (rule 7).
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from insights import admin_bands  # noqa: F401  (registers TierBand)
from insights.models import Insight, Rule
from insights.rules import rule_check, rule_save
from insights.sentences import insight_sentence


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ["enabled", "action", "tiers", "parameter", "threshold_percent", "periods", "days", "minimum",
                  "suppression_days", "weight"]

    def _post_clean(self):
        super()._post_clean()  # the model's validators: out-of-range values get a message on their field
        if not self.errors:
            try:
                rule_check(rule=self.instance)
            except ValidationError as error:
                self._update_errors(error)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = ["code", "enabled", "action", "parameter", "threshold_percent", "periods", "days", "minimum",
                    "suppression_days", "weight"]
    list_editable = ["enabled"]
    list_select_related = ["parameter"]
    readonly_fields = ["code"]
    filter_horizontal = ["tiers"]
    fields = ["code", "enabled", "action", "tiers", "parameter", "threshold_percent", "periods", "days", "minimum",
              "suppression_days", "weight"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        rule_save(rule=obj)

    def save_related(self, request, form, formsets, change):
        if "tiers" in form.cleaned_data:
            rule_save(rule=form.instance, tiers=form.cleaned_data["tiers"])


@admin.register(Insight)
class InsightAdmin(admin.ModelAdmin):
    """Read-only: what the evaluation found and how reps reacted."""

    list_display = ["partner", "rule", "sentence", "state", "score", "last_seen_at", "reacted_by"]
    list_filter = ["rule", "state", "partner__tier"]
    list_select_related = ["rule", "partner", "reacted_by"]
    search_fields = ["partner__name", "partner__code", "fingerprint"]
    date_hierarchy = "last_seen_at"
    ordering = ["-score", "-id"]
    show_full_result_count = False  # no COUNT(*) over every insight on each page

    @admin.display(description="Sentence")
    def sentence(self, obj):
        return insight_sentence(obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
