"""The partner add/edit page's forms: the partner form with its contact and location formsets (partners) and the
targets (business), validated together. Validation only: ``business.services.partner_profile_save`` writes."""

from django.core.exceptions import ValidationError

from business.forms import PartnerTargetsForm
from partners.forms import ContactPointFormSet, LocationFormSet, PartnerForm
from partners.models import Partner


class PartnerEditForms:
    """The partner form, its contact and location formsets and the targets form, validated together."""

    def __init__(self, data=None, *, user, partner: Partner | None = None):
        instance = partner if partner is not None else Partner()
        self.partner = partner
        self.form = PartnerForm(data, instance=instance, user=user)
        self.contacts = ContactPointFormSet(data, instance=instance, prefix="contacts")
        self.locations = LocationFormSet(data, instance=instance, prefix="locations")
        self.targets = PartnerTargetsForm(data, partner=partner, prefix="targets")

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
