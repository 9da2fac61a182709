"""The dismiss and snooze forms of an insight card. They only read the input; insights.services validates the rules
(reason required and ≤ 200 characters, snooze from tomorrow to 90 days ahead) and says which field is wrong."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from insights.services import REASON_MAX, snooze_range

REASONS = [
    ("", "— choose —"),
    ("Already in hand", "Already in hand"),
    ("Not relevant for this partner", "Not relevant for this partner"),
    ("The figures are wrong", "The figures are wrong"),
    ("other", "Other (say why)"),
]
NOTE_MAX = 150


class DismissForm(forms.Form):
    reason = forms.ChoiceField(choices=REASONS, label="Why dismiss it?",
                               error_messages={"required": "Say why you dismiss this suggestion."})
    note = forms.CharField(max_length=NOTE_MAX, required=False, label="In a few words")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == "other" and not cleaned.get("note", "").strip():
            self.add_error("note", "Say why you dismiss this suggestion.")
        return cleaned

    def reason_text(self) -> str:
        """The reason stored: the chosen one, with the note after it ("Other" is replaced by the note)."""
        reason, note = self.cleaned_data["reason"], self.cleaned_data["note"].strip()
        if reason == "other":
            return note[:REASON_MAX]
        return f"{reason} — {note}"[:REASON_MAX] if note else reason


class SnoozeForm(forms.Form):
    until = forms.DateField(label="Until", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            input_formats=["%Y-%m-%d"], error_messages={"invalid": "Enter a date (YYYY-MM-DD)."})


def card_options() -> dict:
    """What every insight card's forms need, computed once per page: the snooze date picker's bounds and default (a
    week ahead), and the dismiss reasons. The template's ``card_opts``."""
    first, last = snooze_range()
    return {"min": first.isoformat(), "max": last.isoformat(),
            "default": (timezone.localdate() + timedelta(days=7)).isoformat(), "reasons": REASONS}
