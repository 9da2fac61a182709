"""Forms of the business app."""

from django import forms

from business import periods
from business.models import Target
from business.selectors import parameters_active


class PartnerTargetsForm(forms.Form):
    """Targets of one partner for the current and next periods, shown inside the partner add/edit form.

    Used as ``PartnerTargetsForm(data or None, partner=partner_or_None, prefix="targets")``; the partner form's view
    validates it with the other forms and hands ``form.target_values()`` to ``business.services.partner_profile_save``,
    which writes them with the partner in one transaction. Template: ``{% include "business/_targets_fields.html" with form=targets_form %}``.

    One field per active parameter and period (this one and the next, monthly or quarterly per the parameter), named
    ``<parameter code>__<YYYY-MM-DD>``. Blank means no target: saving deletes an existing one. Two queries to build.
    """

    def __init__(self, *args, partner=None, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner = partner
        today = today or periods.org_today()
        self.keys = {}  # field name -> (parameter, period_start)
        self.rows = []  # [(parameter, [field name, field name])] for the template
        parameters = parameters_active()
        existing = {}
        if partner is not None and partner.pk is not None:
            existing = {
                (pid, start): value
                for pid, start, value in Target.objects.filter(
                    partner_id=partner.pk, period_start__gte=periods.period_start(today, "quarterly")
                ).values_list("parameter_id", "period_start", "value")
            }
        for parameter in parameters:
            current = periods.period_start(today, parameter.frequency)
            names = []
            for start, when in ((current, "this"), (periods.shift(current, parameter.frequency, 1), "next")):
                name = f"{parameter.code}__{start.isoformat()}"
                self.fields[name] = forms.DecimalField(
                    label=f"{parameter.name} ({parameter.unit}), {periods.label(start, parameter.frequency)}",
                    required=False,
                    min_value=0,
                    max_digits=18,
                    decimal_places=4,
                    initial=_plain(existing.get((parameter.pk, start))),
                    help_text=f"{when} period",
                    widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
                )
                self.keys[name] = (parameter, start)
                names.append(name)
            self.rows.append((parameter, names))

    def period_labels(self):
        """``[(parameter, [(label, bound field), …])]`` for the template."""
        return [
            (parameter, [(periods.label(self.keys[n][1], parameter.frequency), self[n]) for n in names])
            for parameter, names in self.rows
        ]

    def target_values(self) -> dict:
        """``{(parameter_id, period_start): Decimal or None}`` for ``business.services.partner_targets_set``; None
        (a blank field) deletes that target."""
        if not self.is_valid():
            raise ValueError("target_values() called on an invalid PartnerTargetsForm")
        return {(parameter.pk, start): self.cleaned_data.get(name) for name, (parameter, start) in self.keys.items()}


def _plain(value):
    """2500.0000 -> 2500 for display; None stays None."""
    if value is None:
        return None
    return value.quantize(1) if value == value.to_integral_value() else value.normalize()
