"""The partner add/edit form: partner fields, configurable profile fields, status, contacts and locations inline.
Validation only: ``partners.services.partner_save`` writes (the page that also shows targets composes this form
with business's in ``dashboard.forms``)."""

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.forms.models import BaseInlineFormSet, inlineformset_factory

from partners.models import ContactPoint, Location, Partner, ProfileField
from partners.selectors import assignable_users, user_sees_all_partners

PROFILE_PREFIX = "profile__"
PHONE_KINDS = (ContactPoint.Kind.PHONE, ContactPoint.Kind.MOBILE, ContactPoint.Kind.WHATSAPP)
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{5,30}$")


def contact_value_error(kind: str, value: str) -> str:
    """What is wrong with a contact value of ``kind`` ("" when nothing): an email address must be one, a phone number
    digits, optionally starting with +. The partner form and the CRM sync's writes both check it."""
    if kind == ContactPoint.Kind.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            return "Enter a valid email address."
    elif kind in PHONE_KINDS and not PHONE_RE.match(value):
        return "Enter a phone number: digits, optionally starting with +."
    return ""
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def profile_form_field(field):
    """A form field for one configurable ``ProfileField``."""
    common = {"label": field.label, "required": field.required}
    if field.kind == ProfileField.Kind.NUMBER:
        return forms.DecimalField(max_digits=18, decimal_places=4, **common)
    if field.kind == ProfileField.Kind.DATE:
        return forms.DateField(widget=DATE_INPUT, **common)
    if field.kind == ProfileField.Kind.URL:
        return forms.URLField(max_length=500, assume_scheme="https", **common)
    if field.kind == ProfileField.Kind.CHOICE:
        options = [(str(option), str(option)) for option in (field.choices or [])]
        return forms.ChoiceField(choices=[("", "—")] + options, **common)
    return forms.CharField(max_length=500, **common)


def profile_json_value(value):
    """A cleaned form value as stored in ``Partner.profile`` (JSON): numbers as int/float, dates as ISO strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class PartnerForm(forms.ModelForm):
    status = forms.ChoiceField(choices=Partner.Status.choices, label="State")
    status_reason = forms.CharField(
        max_length=255, required=False, label="Reason", help_text="Required when you mark a partner inactive."
    )
    website = forms.URLField(max_length=200, required=False, assume_scheme="https")

    class Meta:
        model = Partner
        fields = ["name", "code", "kind", "tier", "country", "assigned_to", "business_potential", "website", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_new = self.instance.pk is None
        self.fields["country"].widget.attrs.update(size=3, autocapitalize="characters")  # price books by country
        if not self.is_new:
            # The code is the key of every import and of the sync: fixed once created (a manager can change it in the
            # admin, where the change is recorded). A disabled field ignores whatever is posted for it.
            self.fields["code"].disabled = True
            self.fields["code"].help_text = "Fixed once the partner exists: imports and sync find partners by it."
        if user_sees_all_partners(user):
            self.fields["assigned_to"].queryset = assignable_users()
            self.fields["assigned_to"].empty_label = "Nobody"
        else:
            del self.fields["assigned_to"]  # a rep's partners are theirs
        self.fields["tier"].empty_label = "No tier"
        self.fields["status"].initial = self.instance.status
        self.fields["status_reason"].initial = "" if self.is_new else self.instance.status_reason
        self.profile_fields = list(ProfileField.objects.all())
        profile = self.instance.profile or {}
        for field in self.profile_fields:
            form_field = profile_form_field(field)
            form_field.initial = profile.get(field.key)
            self.fields[PROFILE_PREFIX + field.key] = form_field

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        changed = self.is_new or status != self.instance.status
        if status == Partner.Status.INACTIVE and changed and not cleaned.get("status_reason", "").strip():
            self.add_error("status_reason", "Say why this partner is inactive.")
        return cleaned

    def profile_bound_fields(self):
        return [self[PROFILE_PREFIX + field.key] for field in self.profile_fields]

    def clean_country(self):
        return (self.cleaned_data.get("country") or "").strip().upper()

    def main_bound_fields(self):
        return [self[name] for name in self.Meta.fields if name in self.fields]

    def partner_fields(self, *, current_profile=None):
        """Keyword arguments for ``partner_create`` / ``partner_update`` (profile merged into ``current_profile``)."""
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}
        profile = dict(current_profile or {})
        for field in self.profile_fields:
            value = self.cleaned_data.get(PROFILE_PREFIX + field.key)
            if value in (None, ""):
                profile.pop(field.key, None)
            else:
                profile[field.key] = profile_json_value(value)
        fields["profile"] = profile
        return fields


def contact_value_attrs(kind: str | None) -> dict:
    """Input attributes for a contact's value of ``kind``: tel keyboard for numbers, email keyboard for addresses."""
    if kind in PHONE_KINDS:
        return {"type": "tel", "inputmode": "tel", "autocomplete": "tel"}
    if kind == ContactPoint.Kind.EMAIL:
        return {"type": "email", "inputmode": "email", "autocomplete": "email"}
    return {"type": "text", "inputmode": "text", "autocomplete": "off"}


class ContactPointForm(forms.ModelForm):
    class Meta:
        model = ContactPoint
        fields = ["kind", "value", "label", "is_primary", "preferred_channel"]
        labels = {"is_primary": "Primary", "preferred_channel": "Preferred messenger"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The right keyboard on a phone: the value's input type follows the kind (static/js/contact_inputs.js
        # switches it when the kind is changed in the browser).
        kind = (self.data.get(self.add_prefix("kind")) if self.is_bound else None) or self.initial.get("kind")
        attrs = contact_value_attrs(kind)
        self.fields["value"].widget.input_type = attrs.pop("type")  # Django renders ``type`` from input_type
        self.fields["value"].widget.attrs.update(attrs)
        self.fields["kind"].widget.attrs["data-contact-kind"] = ""
        self.fields["preferred_channel"].choices = [("", "—")] + list(ContactPoint.Channel.choices)
        self.fields["preferred_channel"].help_text = "At most one contact per partner: how they like to be reached."

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), (cleaned.get("value") or "").strip()
        channel = cleaned.get("preferred_channel")
        if kind and channel and kind not in ContactPoint.CHANNEL_KINDS[channel]:
            kinds = " or ".join(ContactPoint.Kind(k).label for k in ContactPoint.CHANNEL_KINDS[channel])
            self.add_error(
                "preferred_channel",
                f"{ContactPoint.Channel(channel).label} needs a {kinds} contact, not {ContactPoint.Kind(kind).label}.",
            )
        if kind and value:
            if problem := contact_value_error(kind, value):
                self.add_error("value", problem)
            cleaned["value"] = value
        return cleaned


class LocationForm(forms.ModelForm):
    latitude = forms.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False)
    longitude = forms.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False)

    class Meta:
        model = Location
        fields = ["label", "address", "latitude", "longitude", "is_primary"]
        labels = {"is_primary": "Primary"}


class OnePrimaryFormSet(BaseInlineFormSet):
    """Rejects two primaries of the same kind (contacts) or two primary locations, with a message on each extra
    one, before the DB's partial unique constraint would."""

    kind_field = None  # group primaries by this field (None: one primary in all)

    def clean(self):
        super().clean()
        seen = set()
        duplicate = None
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or self._should_delete_form(form) or not data.get("is_primary"):
                continue
            key = data.get(self.kind_field) if self.kind_field else None
            if key in seen:
                duplicate = self.duplicate_message(key)
                form.add_error("is_primary", duplicate)
            seen.add(key)
        if duplicate:
            raise ValidationError(duplicate, code="two_primaries")

    def duplicate_message(self, key):
        return "Only one location can be primary: untick “Primary” on the others."

    def items(self):
        """The rows to keep, as dicts for ``partners.services.partner_save_contacts_and_locations``."""
        items = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or self._should_delete_form(form):
                continue
            item = {name: data.get(name) for name in form._meta.fields}
            item["id"] = form.instance.pk
            items.append(item)
        return items


class ContactPointFormSetBase(OnePrimaryFormSet):
    kind_field = "kind"

    def clean(self):
        """Also: at most one contact is the partner's preferred messenger (the DB's constraint is the backstop)."""
        super().clean()
        preferred = [
            form for form in self.forms
            if getattr(form, "cleaned_data", None) and not self._should_delete_form(form)
            and form.cleaned_data.get("preferred_channel")
        ]
        if len(preferred) > 1:
            message = "Only one contact can be the preferred messenger: set “—” on the others."
            for form in preferred[1:]:
                form.add_error("preferred_channel", message)
            raise ValidationError(message, code="two_preferred")

    def duplicate_message(self, key):
        label = ContactPoint.Kind(key).label if key in ContactPoint.Kind.values else key
        return f"Only one {label} contact can be primary: untick “Primary” on the others."


ContactPointFormSet = inlineformset_factory(
    Partner, ContactPoint, form=ContactPointForm, formset=ContactPointFormSetBase, extra=1, can_delete=True
)
LocationFormSet = inlineformset_factory(
    Partner, Location, form=LocationForm, formset=OnePrimaryFormSet, extra=1, can_delete=True
)
