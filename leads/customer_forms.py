"""The customer edit page's forms: profile fields, contacts and locations inline (as the partner edit page).
Validation only: ``leads.customer_services.customer_save`` writes, all of it or nothing."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import inlineformset_factory

from leads.customer_services import EDITABLE_FIELDS
from leads.models import Customer, CustomerContact, CustomerLocation, CustomerSegment
from partners.forms import PHONE_KINDS, PHONE_RE, ContactPointFormSetBase, OnePrimaryFormSet, contact_value_attrs
from partners.models import ContactPoint
from partners.selectors import assignable_users, user_sees_all_partners


class CustomerForm(forms.ModelForm):
    website = forms.URLField(max_length=200, required=False, assume_scheme="https")

    class Meta:
        model = Customer
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "email": forms.EmailInput(attrs={"inputmode": "email", "autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = CustomerSegment.objects.order_by("name")
        self.fields["segment"].empty_label = "Default segment"
        if user_sees_all_partners(user):
            self.fields["assigned_to"].queryset = assignable_users()
            self.fields["assigned_to"].empty_label = "Nobody"
        else:
            del self.fields["assigned_to"]  # a manager reassigns customers

    def clean_phone(self):
        phone = (self.cleaned_data.get("phone") or "").strip()
        if phone and not PHONE_RE.match(phone):
            raise ValidationError("Enter a phone number: digits, optionally starting with +.")
        return phone

    def customer_fields(self) -> dict:
        """Keyword arguments for ``customer_update`` (the fields this user may change)."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}


class CustomerContactForm(forms.ModelForm):
    class Meta:
        model = CustomerContact
        fields = ["kind", "value", "label", "is_primary"]
        labels = {"is_primary": "Primary"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The right keyboard on a phone (static/js/contact_inputs.js switches it when the kind changes).
        kind = (self.data.get(self.add_prefix("kind")) if self.is_bound else None) or self.initial.get("kind")
        attrs = contact_value_attrs(kind)
        self.fields["value"].widget.input_type = attrs.pop("type")
        self.fields["value"].widget.attrs.update(attrs)
        self.fields["kind"].widget.attrs["data-contact-kind"] = ""

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), (cleaned.get("value") or "").strip()
        if kind and value:
            if kind == ContactPoint.Kind.EMAIL:
                try:
                    forms.EmailField().clean(value)
                except ValidationError:
                    self.add_error("value", "Enter a valid email address.")
            elif kind in PHONE_KINDS and not PHONE_RE.match(value):
                self.add_error("value", "Enter a phone number: digits, optionally starting with +.")
            cleaned["value"] = value
        return cleaned


class CustomerLocationForm(forms.ModelForm):
    latitude = forms.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False)
    longitude = forms.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False)

    class Meta:
        model = CustomerLocation
        fields = ["label", "address", "latitude", "longitude", "is_primary"]
        labels = {"is_primary": "Primary"}


# The partner formsets' rules: one primary per contact kind, one primary location, each with a message.
CustomerContactFormSet = inlineformset_factory(
    Customer, CustomerContact, form=CustomerContactForm, formset=ContactPointFormSetBase, extra=1, can_delete=True
)
CustomerLocationFormSet = inlineformset_factory(
    Customer, CustomerLocation, form=CustomerLocationForm, formset=OnePrimaryFormSet, extra=1, can_delete=True
)


class CustomerEditForms:
    """The profile form and its contact and location formsets, validated together."""

    def __init__(self, data=None, *, user, customer: Customer):
        self.form = CustomerForm(data, instance=customer, user=user)
        self.contacts = CustomerContactFormSet(data, instance=customer, prefix="contacts")
        self.locations = CustomerLocationFormSet(data, instance=customer, prefix="locations")

    def is_valid(self) -> bool:
        results = [self.form.is_valid(), self.contacts.is_valid(), self.locations.is_valid()]
        return all(results)

    def service_kwargs(self) -> dict:
        """Keyword arguments for ``customer_save`` (besides ``customer`` and ``by``)."""
        return {"fields": self.form.customer_fields(), "contacts": self.contacts.items(),
                "locations": self.locations.items()}

    def add_error(self, error: ValidationError | str) -> None:
        """A ValidationError raised while saving: on its field when the profile form has it, else on top."""
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.form.add_error(field if field in self.form.fields else None, errors)
        else:
            self.form.add_error(None, error)

    def context(self) -> dict:
        return {"form": self.form, "contact_formset": self.contacts, "location_formset": self.locations}
