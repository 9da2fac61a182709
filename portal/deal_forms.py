"""Forms of deal registration (portal and staff pages). They validate and bound what people type; the writes are
``portal.deal_services``' (a service's ValidationError goes back onto the form)."""

import secrets

from django import forms

from portal.deal_services import LOST_REASON_MAX, NOTES_MAX, REASON_MAX
from portal.domains import normalise_domain
from portal.models import DealRegistration

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


class DealForm(forms.Form):
    """The registration itself. ``form_token`` (hidden, random per new form) makes a double submit one registration."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    company = forms.CharField(label="Prospect company", max_length=200)
    domain = forms.CharField(label="Web domain", max_length=300, required=False,
                             help_text="e.g. example.com (a web address works too).")
    contact_name = forms.CharField(label="Contact name", max_length=150, required=False)
    contact_email = forms.EmailField(label="Contact email", max_length=254, required=False)
    contact_phone = forms.CharField(label="Contact phone", max_length=50, required=False)
    country = forms.CharField(label="Country", max_length=2, required=False, help_text="Two letters, e.g. DE.",
                              widget=forms.TextInput(attrs={"size": 3, "autocapitalize": "characters"}))
    amount = forms.DecimalField(label="Estimated amount", max_digits=14, decimal_places=2, min_value=0,
                                required=False)
    currency = forms.CharField(label="Currency", max_length=3, initial="EUR",
                               widget=forms.TextInput(attrs={"size": 4, "autocapitalize": "characters"}))
    expected_close = forms.DateField(label="Expected close date", required=False, widget=DATE)
    notes = forms.CharField(label="Products and notes", max_length=NOTES_MAX, required=False,
                            widget=forms.Textarea(attrs={"rows": 4}),
                            help_text="Products, quantities, what the customer needs.")

    def clean_domain(self):
        raw = self.cleaned_data["domain"].strip()
        if not raw:
            return ""
        try:
            return normalise_domain(raw)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_form_token(self):
        token = self.cleaned_data["form_token"]
        if token and not token.replace("-", "").replace("_", "").isalnum():
            raise forms.ValidationError("This form has expired: reload the page.")
        return token

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields if name != "form_token"}

    @classmethod
    def initial_from(cls, registration: DealRegistration) -> dict:
        return {name: getattr(registration, name) for name in cls.base_fields if name != "form_token"}


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="The partner reads it.")


class DecisionForm(ReasonForm):
    decision = forms.ChoiceField(label="Decision", choices=[("approve", "Approve"), ("return", "Return for more "
                                                            "information"), ("reject", "Reject")])
    field_order = ["decision", "reason"]


class ExtensionDecisionForm(forms.Form):
    grant = forms.ChoiceField(label="Extension", choices=[("grant", "Grant"), ("refuse", "Refuse")])
    reason = forms.CharField(label="Reason", max_length=REASON_MAX, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}), help_text="Required to refuse.")


class ConfirmWonForm(forms.Form):
    value = forms.DecimalField(label="Booked value", max_digits=14, decimal_places=2, min_value=0, required=False,
                               help_text="Blank: the registration's amount.")


class StageForm(forms.Form):
    stage = forms.ChoiceField(label="Stage", choices=DealRegistration.Stage.choices)


class NoteForm(forms.Form):
    note = forms.CharField(label="Note", max_length=REASON_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class LostForm(forms.Form):
    reason = forms.CharField(label="Why was it lost?", max_length=LOST_REASON_MAX,
                             widget=forms.Textarea(attrs={"rows": 2}))
