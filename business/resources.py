"""django-import-export resources, used for exports only (imports go through business.imports).

Exports have the import's columns (``partner_code,parameter,period,value``), so an exported file uploads back
unchanged. Every exported text cell is made safe to open in a spreadsheet (``escape_formula``).
"""

from import_export import fields, resources

from business import periods
from business.models import Achievement, Target
from partners.exports import FORMULA_PREFIXES, FormulaSafeResourceMixin, escape_formula  # noqa: F401


class PeriodValueResource(FormulaSafeResourceMixin, resources.ModelResource):
    partner_code = fields.Field(attribute="partner__code", column_name="partner_code", readonly=True)
    parameter = fields.Field(attribute="parameter__code", column_name="parameter", readonly=True)
    period = fields.Field(column_name="period", readonly=True)
    value = fields.Field(attribute="value", column_name="value", readonly=True)

    class Meta:
        fields = ("partner_code", "parameter", "period", "value")
        export_order = ("partner_code", "parameter", "period", "value")

    def get_queryset(self):
        return super().get_queryset().select_related("partner", "parameter")

    def dehydrate_period(self, obj):
        return periods.label(obj.period_start, obj.parameter.frequency)

    def dehydrate_value(self, obj):
        return format(obj.value.normalize(), "f")  # 1200.0000 -> "1200", 0.5000 -> "0.5"


class AchievementResource(PeriodValueResource):
    class Meta(PeriodValueResource.Meta):
        model = Achievement
        name = "Achievements"


class TargetResource(PeriodValueResource):
    class Meta(PeriodValueResource.Meta):
        model = Target
        name = "Targets"
