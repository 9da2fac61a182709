"""The staff's "new message to partners" form (dashboard.announcement_views). It only validates; the view hands
``service_kwargs()`` to ``portal.announcement_services.announcement_publish`` (which checks everything again)."""

import re

from django import forms

from partners.models import Partner, Tier
from portal.announcement_services import (
    BODY_MAX,
    LINK_MAX,
    MAX_CHOSEN_PARTNERS,
    TITLE_MAX,
    announcement_clean_link,
)


class AnnouncementForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX)
    body = forms.CharField(
        max_length=BODY_MAX, required=False, label="Text",
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": BODY_MAX}),
    )
    link = forms.CharField(
        max_length=LINK_MAX, required=False, label="Link",
        help_text="Optional: the document, training or webinar (https://…).",
        widget=forms.URLInput(attrs={"inputmode": "url", "placeholder": "https://"}),
    )
    to_all = forms.BooleanField(required=False, label="Every partner")
    tiers = forms.ModelMultipleChoiceField(
        queryset=Tier.objects.order_by("rank", "name"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Partners of these tiers…",
    )
    kinds = forms.MultipleChoiceField(
        choices=Partner.Kind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="…and of these kinds (both chosen: both must match).",
    )
    partner_codes = forms.CharField(
        required=False, label="Chosen partners", max_length=20_000,
        help_text="Partner codes, separated by commas or new lines: they get it too.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_link(self) -> str:
        try:
            return announcement_clean_link(self.cleaned_data["link"])
        except forms.ValidationError as error:
            raise forms.ValidationError(error.message_dict["link"]) from None

    def clean_partner_codes(self) -> list[Partner]:
        codes = sorted({code.strip() for code in re.split(r"[,\n\r]+", self.cleaned_data["partner_codes"])
                        if code.strip()})
        if not codes:
            return []
        if len(codes) > MAX_CHOSEN_PARTNERS:
            raise forms.ValidationError(f"Choose at most {MAX_CHOSEN_PARTNERS} partners (or a tier or kind).")
        found = list(Partner.objects.filter(code__in=codes).only("code"))
        unknown = sorted(set(codes) - {partner.code for partner in found})
        if unknown:
            shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
            raise forms.ValidationError(f"No partner has the code {shown}.")
        return found

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("to_all") or data.get("tiers") or data.get("kinds")
                                    or data.get("partner_codes")):
            self.add_error("to_all", "Choose who gets it: every partner, tiers, kinds of partner, or chosen partners.")
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"title": data["title"], "body": data["body"], "link": data["link"], "to_all": data["to_all"],
                "tiers": list(data["tiers"]), "kinds": data["kinds"], "partners": data["partner_codes"]}
