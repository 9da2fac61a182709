"""Partner writes through the API: the request bodies of POST /partners/ and PATCH /partners/{id}/, checked by the
rules of the partner add/edit page (partners.forms), and turned into the arguments of
``partners.services.partner_save`` — the page's own service, so fields, status (with its StatusChange row), contact
points and locations are saved in one transaction, or nothing.

The page's rules, kept here:
- ``code`` is the key of imports and of the sync: set when the partner is created, fixed after (a manager changes
  one in the admin, where the change is recorded). PATCH with another code is a 400.
- Only a manager (``user_sees_all_partners``) assigns a partner, to an active rep or manager; a rep's new partner is
  theirs, and a rep cannot hand one over (the page has no "Assigned to" field for them).
- Marking a partner inactive needs a reason.
- Contact values: emails must be addresses, phone kinds digits (``partners.forms.PHONE_RE``); one primary per kind,
  one preferred messenger per partner, which must suit its contact's kind; one primary location.
- ``profile`` holds the configurable profile fields (Admin › Partners › Profile fields), each checked by the same form
  field as on the page; unknown keys are refused, ``null`` clears one, required ones must be there.
"""

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework import exceptions, serializers

from api.resources import MAX_ID, PatchMixin, UserRefField, id_field, resolve_user
from partners.forms import PHONE_KINDS, PHONE_RE, profile_form_field, profile_json_value
from partners.models import ContactPoint, Partner, ProfileField, Tier
from partners.selectors import assignable_users, user_sees_all_partners

CODE_FIXED = "Fixed once the partner exists: imports and sync find partners by it (a manager can change it in the admin)."
REP_ASSIGNS = "Only a manager assigns partners: a rep's partners are theirs."


class ContactPointWriteSerializer(serializers.Serializer):
    id = id_field(required=False, allow_null=True, help_text="An existing contact of this partner to keep; omit: new.")
    kind = serializers.ChoiceField(choices=ContactPoint.Kind.choices)
    value = serializers.CharField(max_length=254)
    label = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(required=False, default=False)
    preferred_channel = serializers.ChoiceField(
        choices=[("", "None"), *ContactPoint.Channel.choices], required=False, allow_blank=True, default="",
        help_text="Marks the partner's preferred messenger (at most one contact).",
    )

    def validate(self, attrs):
        kind, value, channel = attrs["kind"], attrs["value"].strip(), attrs.get("preferred_channel", "")
        errors = {}
        if kind == ContactPoint.Kind.EMAIL:
            try:
                validate_email(value)
            except DjangoValidationError:
                errors["value"] = ["Enter a valid email address."]
        elif kind in PHONE_KINDS and not PHONE_RE.match(value):
            errors["value"] = ["Enter a phone number: digits, optionally starting with +."]
        if channel and kind not in ContactPoint.CHANNEL_KINDS[channel]:
            kinds = " or ".join(ContactPoint.Kind(k).label for k in ContactPoint.CHANNEL_KINDS[channel])
            errors["preferred_channel"] = [
                f"{ContactPoint.Channel(channel).label} needs a {kinds} contact, not {ContactPoint.Kind(kind).label}."
            ]
        if errors:
            raise serializers.ValidationError(errors)
        return {**attrs, "value": value}


class LocationWriteSerializer(serializers.Serializer):
    id = id_field(required=False, allow_null=True, help_text="An existing location of this partner to keep; omit: new.")
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=500)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False,
                                        allow_null=True, default=None)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180,
                                         required=False, allow_null=True, default=None)
    is_primary = serializers.BooleanField(required=False, default=False)


class PartnerWriteSerializer(PatchMixin, serializers.Serializer):
    """A new partner (POST: ``code`` and ``name`` required) or the fields to change (PATCH: any subset).
    ``contact_points`` / ``locations``, when given, replace the partner's lists (an item with the ``id`` of one of
    its rows keeps and updates that row; rows not listed are deleted)."""

    code = serializers.CharField(max_length=64, help_text="Set on create; fixed after.")
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Partner.Kind.choices, required=False)
    tier = id_field(required=False, allow_null=True, help_text="A tier's id; null: no tier.")
    assigned_to = UserRefField(required=False, help_text="Managers only: an active rep's or manager's id or username.")
    status = serializers.ChoiceField(choices=Partner.Status.choices, required=False)
    status_reason = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                          help_text="Required when the partner becomes inactive.")
    business_potential = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, allow_null=True)
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True,
                                    help_text="ISO 3166-1 alpha-2 code (e.g. DE): which country price books apply.")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    profile = serializers.DictField(child=serializers.JSONField(allow_null=True), required=False,
                                    help_text="Profile field key → value (null clears it).")
    contact_points = ContactPointWriteSerializer(many=True, required=False, max_length=100)
    locations = LocationWriteSerializer(many=True, required=False, max_length=100)

    def validate_code(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        return value

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        return value

    def validate_contact_points(self, items):
        errors, primaries, preferred = [{} for _ in items], set(), False
        for index, item in enumerate(items):
            if item["is_primary"]:
                if item["kind"] in primaries:
                    label = ContactPoint.Kind(item["kind"]).label
                    errors[index]["is_primary"] = [
                        f"Only one {label} contact can be primary: untick “Primary” on the others."]
                primaries.add(item["kind"])
            if item["preferred_channel"]:
                if preferred:
                    errors[index]["preferred_channel"] = [
                        "Only one contact can be the preferred messenger: set it on one contact."]
                preferred = True
        if any(errors):
            raise serializers.ValidationError(errors)
        return items

    def validate_locations(self, items):
        errors, primary = [{} for _ in items], False
        for index, item in enumerate(items):
            if item["is_primary"]:
                if primary:
                    errors[index]["is_primary"] = ["Only one location can be primary: untick “Primary” on the others."]
                primary = True
        if any(errors):
            raise serializers.ValidationError(errors)
        return items


def partner_save_kwargs(*, data: dict, user: AbstractBaseUser, partner: Partner | None) -> dict:
    """``partners.services.partner_save``'s arguments (besides ``partner`` and ``by``) from a validated body, with the
    page's rules (see the module). ``partner`` None: a new one. A broken rule is a 400 naming the field."""
    fields, errors = {}, {}
    for name in ("name", "kind", "business_potential", "website", "notes"):
        if name in data:
            fields[name] = data[name]
    if "country" in data:
        fields["country"] = data["country"].strip().upper()  # as the form: "de" is DE; the model checks the code
    if partner is None:
        fields["code"] = data["code"]
    elif "code" in data and data["code"] != partner.code:
        errors["code"] = [CODE_FIXED]
    if "tier" in data:
        tier = Tier.objects.filter(pk=data["tier"]).first() if data["tier"] is not None else None
        if data["tier"] is not None and tier is None:
            errors["tier"] = ["No tier has this id."]
        fields["tier"] = tier
    sees_all = user_sees_all_partners(user)
    if "assigned_to" in data:
        ref = data["assigned_to"]
        current = partner.assigned_to if partner is not None else user
        if sees_all:
            try:
                fields["assigned_to"] = resolve_user(
                    ref, among=assignable_users(), field="assigned_to",
                    message="No active rep or manager has this id or username.")
            except exceptions.ValidationError as error:
                errors.update(error.detail)
        elif ref != getattr(current, "pk", None) and ref != getattr(current, "username", None):
            errors["assigned_to"] = [REP_ASSIGNS]
    if partner is None and "assigned_to" not in fields:
        fields["assigned_to"] = user  # a new partner is its creator's unless a manager says otherwise
    if "profile" in data:
        profile, profile_errors = _profile(data["profile"], current=partner.profile if partner else {})
        fields["profile"] = profile
        errors.update(profile_errors)
    elif partner is None:
        profile, profile_errors = _profile({}, current={})
        fields["profile"] = profile
        errors.update(profile_errors)
    status = data.get("status", partner.status if partner is not None else Partner.Status.ACTIVE)
    if "status_reason" in data:
        reason = data["status_reason"].strip()
    elif "status" in data or partner is None:
        reason = ""
    else:
        reason = partner.status_reason
    changed = partner is None or status != partner.status
    if status == Partner.Status.INACTIVE and changed and not reason:
        errors["status_reason"] = ["Say why this partner is inactive."]
    if errors:
        raise exceptions.ValidationError(errors)
    return {
        "fields": fields,
        "status": status,
        "status_reason": reason,
        "contacts": [_item(item) for item in data["contact_points"]] if "contact_points" in data else None,
        "locations": [_item(item) for item in data["locations"]] if "locations" in data else None,
    }


def _item(item: dict) -> dict:
    return {**item, "id": item.get("id")}


def _profile(given: dict, *, current: dict) -> tuple[dict, dict]:
    """The profile after applying ``given`` to ``current``, each value cleaned by its field's form field; and the
    errors as ``{"profile.<key>": [...]}``."""
    configured = {field.key: field for field in ProfileField.objects.all()}
    profile = {key: value for key, value in (current or {}).items()}
    errors = {}
    for key, value in given.items():
        field = configured.get(key)
        path = f"profile.{key}"[:200]
        if field is None:
            errors[path] = ["No profile field has this key."]
            continue
        if value is None or value == "":
            profile.pop(key, None)
            continue
        if isinstance(value, dict | list) or (isinstance(value, int | float) and not isinstance(value, bool)
                                              and abs(value) > MAX_ID):
            errors[path] = ["Give a single value (text, number or date)."]
            continue
        try:
            profile[key] = profile_json_value(profile_form_field(field).clean(value))
        except forms.ValidationError as error:
            errors[path] = error.messages
    for key, field in configured.items():
        if field.required and profile.get(key) in (None, "") and f"profile.{key}" not in errors:
            errors[f"profile.{key}"] = ["This field is required."]
    return profile, errors
