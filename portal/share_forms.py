"""Forms of the shared leads: the staff's "Share with a partner" (dashboard.share_views) and the partner's decline and
follow-up (portal.lead_views). They only validate; the views hand the cleaned values to portal.share_services."""

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from leads.models import Lead
from partners.models import Partner
from partners.selectors import partner_visible_to
from portal.share_services import NOTE_MAX, RESPONSE_MAX


class ShareForm(forms.Form):
    """Staff: the partner (a code or exact name among the partners the user sees) and a note for it."""

    partner_ref = forms.CharField(
        max_length=200, label="Partner", help_text="The partner's code or exact name (one of your partners).",
    )
    note = forms.CharField(
        max_length=NOTE_MAX, required=False, label="Note for the partner",
        help_text="What the partner should know: the need, the timing, whom to ask for.",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX}),
    )

    def __init__(self, data=None, *, user: AbstractBaseUser, lead: Lead):
        self.user = user
        initial = {"partner_ref": lead.partner.code} if lead.partner_id else {}
        super().__init__(data, initial=initial)

    def clean_partner_ref(self) -> Partner:
        ref = " ".join(self.cleaned_data["partner_ref"].split())
        matches = list(partner_visible_to(self.user).filter(Q(code=ref) | Q(name__iexact=ref)).only("code", "name")[:2])
        by_code = [partner for partner in matches if partner.code == ref]
        if by_code:
            return by_code[0]
        if not matches:
            raise forms.ValidationError("None of your partners has this code or name.")
        if len(matches) > 1:
            raise forms.ValidationError("Several partners have this name: type the partner's code.")
        return matches[0]


class DeclineForm(forms.Form):
    reason = forms.CharField(
        max_length=RESPONSE_MAX, label="Why do you decline?",
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": RESPONSE_MAX}),
    )


class FollowUpForm(forms.Form):
    note = forms.CharField(
        max_length=RESPONSE_MAX, label="What did you do?",
        help_text="A call, a meeting, an offer: what happened and what comes next.",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": RESPONSE_MAX}),
    )
