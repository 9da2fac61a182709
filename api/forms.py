from django import forms
from django.utils import timezone

from api.models import SCOPES

MAX_EXPIRY_DAYS = 3660


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. \"BI nightly export\".")
    scopes = forms.MultipleChoiceField(choices=[(scope, scope) for scope in SCOPES],
                                       widget=forms.CheckboxSelectMultiple)
    expires_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="Optional: the key stops working at the start of this day.")

    def clean_expires_on(self):
        value = self.cleaned_data.get("expires_on")
        if value is None:
            return None
        today = timezone.localdate()
        if value <= today:
            raise forms.ValidationError("Choose a day after today.")
        if (value - today).days > MAX_EXPIRY_DAYS:
            raise forms.ValidationError("Choose a day within ten years.")
        return value
