"""The forms of profile updates: what a partner user proposes (description, contacts, locations — the staff partner
form's own contact and location forms, partners.forms) and the reviewer's rejection reason. Validation only:
``portal.profile_services`` writes."""

from django import forms
from django.forms.models import inlineformset_factory

from partners.forms import ContactPointForm, ContactPointFormSetBase, LocationForm, OnePrimaryFormSet
from partners.models import ContactPoint, Location, Partner
from portal.profile_services import NOTES_MAX, REASON_MAX

MAX_ROWS = 30  # contacts, and locations, a proposal may hold

ProposedContactsFormSet = inlineformset_factory(
    Partner, ContactPoint, form=ContactPointForm, formset=ContactPointFormSetBase, extra=1, can_delete=True,
    max_num=MAX_ROWS, validate_max=True, absolute_max=MAX_ROWS,
)
ProposedLocationsFormSet = inlineformset_factory(
    Partner, Location, form=LocationForm, formset=OnePrimaryFormSet, extra=1, can_delete=True,
    max_num=MAX_ROWS, validate_max=True, absolute_max=MAX_ROWS,
)


class DescriptionForm(forms.Form):
    notes = forms.CharField(
        label="Description", required=False, max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What your company does, its focus, brands and regions (shown to your account manager).",
    )


class ProposalForms:
    """The description form and the contact and location formsets, bound to the partner's current rows (a posted
    id of another partner's row is a field error: the inline formsets only accept the partner's own)."""

    def __init__(self, data=None, *, partner: Partner):
        self.form = DescriptionForm(data, initial={"notes": partner.notes})
        self.contacts = ProposedContactsFormSet(data, instance=partner, prefix="contacts")
        self.locations = ProposedLocationsFormSet(data, instance=partner, prefix="locations")

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.contacts.is_valid(), self.locations.is_valid()])

    def service_kwargs(self) -> dict:
        """Keyword arguments for ``portal.profile_services.profile_update_submit`` (besides partner and by)."""
        return {
            "notes": self.form.cleaned_data["notes"].strip(),
            "contacts": self.contacts.items(),
            "locations": self.locations.items(),
        }

    def has_errors(self) -> bool:
        return bool(self.form.errors or self.contacts.total_error_count() or self.locations.total_error_count())

    def context(self) -> dict:
        return {"form": self.form, "contact_formset": self.contacts, "location_formset": self.locations}


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to the partner and emailed to whoever proposed the update.",
    )
