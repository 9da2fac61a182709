"""Forms of the lead pages: add/edit a lead, move its stage, convert it, lose it. They only validate; the views hand
``service_kwargs()`` (or the cleaned values) to leads.services."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from leads.models import Lead
from leads.services import LOST_REASON_MAX
from partners.models import Partner
from partners.selectors import assignable_users, partner_visible_to, user_sees_all_partners

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}
MONEY_INPUT = forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"})


class AssigneeField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


def assignee_queryset(*, user: AbstractBaseUser, keep: list[int | None]):
    """Whom ``user`` may assign a lead to: a manager, any active rep or manager (``assignable_users``); a rep,
    themselves. Either way also the ids in ``keep`` (the lead's current assignee, the partner's rep), so an edit that
    leaves the field alone is valid."""
    ids = {user.pk, *(pk for pk in keep if pk)}
    condition = Q(pk__in=ids)
    if user_sees_all_partners(user):
        condition |= Q(pk__in=assignable_users().order_by().values("pk"))
    return get_user_model().objects.filter(condition).order_by("username")


class LeadForm(forms.Form):
    """A new lead or an edit of one (the fields of ``leads.services.EDITABLE_FIELDS``).

    ``partner``: the partner the lead comes from when it is fixed (a new lead from the partner's page); otherwise the
    form has a "Partner" text field taking a code or an exact name of a partner the user sees (blank: no partner)."""

    name = forms.CharField(max_length=200)
    company = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(max_length=254, required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(max_length=50, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    partner_ref = forms.CharField(
        max_length=200, required=False, label="Partner",
        help_text="The partner's code or exact name; blank for a lead that came in directly.",
    )
    expected_value = forms.DecimalField(required=False, label="Expected value", widget=MONEY_INPUT, **MONEY)
    assigned_to = AssigneeField(queryset=None, label="Assigned to", empty_label="— nobody —", required=False)

    def __init__(self, data=None, *, user: AbstractBaseUser, lead: Lead | None = None, partner: Partner | None = None):
        self.user = user
        self.lead = lead
        self.fixed_partner = partner
        initial = {"assigned_to": user.pk}
        if lead is not None:
            initial = {name: getattr(lead, name) for name in ("name", "company", "email", "phone", "expected_value")}
            initial["assigned_to"] = lead.assigned_to_id
            initial["partner_ref"] = lead.partner.code if lead.partner_id else ""
        super().__init__(data, initial=initial)
        if partner is not None:
            del self.fields["partner_ref"]
        current = lead.partner if lead is not None else partner
        keep = [lead.assigned_to_id if lead is not None else None, current.assigned_to_id if current else None]
        self.fields["assigned_to"].queryset = assignee_queryset(user=user, keep=keep)

    def clean_partner_ref(self):
        """A partner the user sees, by code or exact name (the lead's current partner is kept as it is)."""
        ref = " ".join(self.cleaned_data["partner_ref"].split())
        if not ref:
            return None
        current = self.lead.partner if self.lead is not None and self.lead.partner_id else None
        if current is not None and ref == current.code:
            return current
        matches = list(partner_visible_to(self.user).filter(Q(code=ref) | Q(name__iexact=ref)).only("code", "name")[:2])
        by_code = [partner for partner in matches if partner.code == ref]
        if by_code:
            return by_code[0]
        if not matches:
            raise forms.ValidationError("None of your partners has this code or name.")
        if len(matches) > 1:
            raise forms.ValidationError("Several partners have this name: type the partner's code.")
        return matches[0]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {name: data[name] for name in ("name", "company", "email", "phone", "expected_value", "assigned_to")}
        kwargs["name"] = kwargs["name"].strip()
        kwargs["partner"] = data["partner_ref"] if "partner_ref" in self.fields else self.fixed_partner
        return kwargs


class LeadMoveForm(forms.Form):
    """Move an open lead to another open stage."""

    stage = forms.ChoiceField(label="Move to", choices=())

    def __init__(self, data=None, *, lead: Lead):
        super().__init__(data)
        self.fields["stage"].choices = [(value, label) for value, label in Lead.Stage.choices
                                        if value in Lead.OPEN_STAGES and value != lead.stage]


class LeadConvertForm(forms.Form):
    value = forms.DecimalField(
        required=False, label="Value booked", widget=MONEY_INPUT,
        help_text="Revenue won with this lead (blank: its expected value).", **MONEY,
    )

    def __init__(self, data=None, *, lead: Lead):
        super().__init__(data, initial={"value": lead.expected_value})


class LeadLoseForm(forms.Form):
    reason = forms.CharField(
        max_length=LOST_REASON_MAX, label="Why was it lost?",
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": LOST_REASON_MAX}),
    )
