"""The partner add/edit page's forms: the partner form with its contact and location formsets (partners) and the
targets (business), validated together. Validation only: ``business.services.partner_profile_save`` writes."""

from django.core.exceptions import ValidationError

from business.forms import PartnerTargetsForm
from insights.tier_review import tier_band_defaults
from partners.forms import ContactPointFormSet, LocationFormSet, PartnerForm
from partners.models import Partner


class PartnerEditForms:
    """The partner form, its contact and location formsets and the targets form, validated together."""

    def __init__(self, data=None, *, user, partner: Partner | None = None, initial_tier: str | None = None):
        instance = partner if partner is not None else Partner()
        self.partner = partner
        self.form = PartnerForm(data, instance=instance, user=user)
        self.contacts = ContactPointFormSet(data, instance=instance, prefix="contacts")
        self.locations = LocationFormSet(data, instance=instance, prefix="locations")
        self.targets = PartnerTargetsForm(data, partner=partner, prefix="targets")
        if partner is None:
            self._propose_band_targets(data, initial_tier)

    def _propose_band_targets(self, data, initial_tier: str | None) -> None:
        """A new partner's targets proposed from its tier's band (insights, rule 7): the band's low end, shown in the
        target boxes — with ``?tier=<id>`` on the first GET, and by static/js/tier_band_targets.js when the tier is
        picked (``targets.band_proposals``: ``{tier id: {input name: value}}``). Nothing is applied silently: only
        what the boxes hold when the form is sent is saved. One query."""
        defaults = tier_band_defaults()
        proposals = {}
        for tier_id, lows in defaults.items():
            proposals[str(tier_id)] = {
                self.targets[name].html_name: _plain(lows[parameter.pk])
                for name, (parameter, _start) in self.targets.keys.items() if parameter.pk in lows
            }
        self.targets.band_proposals = {tier: names for tier, names in proposals.items() if names}
        if data is None and initial_tier and initial_tier.isdigit() and initial_tier in self.targets.band_proposals:
            self.form.initial["tier"] = int(initial_tier)
            by_name = self.targets.band_proposals[initial_tier]
            for name in self.targets.keys:
                if self.targets[name].html_name in by_name:
                    self.targets.initial[name] = by_name[self.targets[name].html_name]

    def is_valid(self) -> bool:
        results = [self.form.is_valid(), self.contacts.is_valid(), self.locations.is_valid(), self.targets.is_valid()]
        return all(results)

    def service_kwargs(self, *, current_profile: dict | None = None) -> dict:
        """Keyword arguments for ``business.services.partner_profile_save`` (besides ``partner`` and ``by``)."""
        return {
            "fields": self.form.partner_fields(current_profile=current_profile),
            "status": self.form.cleaned_data["status"],
            "status_reason": self.form.cleaned_data["status_reason"].strip(),
            "contacts": self.contacts.items(),
            "locations": self.locations.items(),
            "targets": self.targets.target_values(),
        }

    def add_error(self, error: ValidationError | str) -> None:
        """Show a ValidationError raised while saving: on its field when the partner form has it, else on top."""
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.form.add_error(field if field in self.form.fields else None, errors)
        else:
            self.form.add_error(None, error)

    def context(self) -> dict:
        return {
            "form": self.form,
            "contact_formset": self.contacts,
            "location_formset": self.locations,
            "targets_form": self.targets,
        }


def _plain(value) -> str:
    """50000.00 → "50000" for an input's value."""
    return format(value.normalize(), "f")
