"""The settings page's form: it only validates; the view hands ``cleaned_data`` to notifications.preferences."""

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.preferences import MAX_LEAD_MINUTES, is_time_zone


class PreferenceForm(forms.Form):
    # The <select> of every zone is written by the template (jinja2/notifications/settings.html) from
    # ``time_zone_names()``: ~600 options rendered by Django's widget templates cost more than the rest of the page.
    time_zone = forms.CharField(label=_("Time zone"), max_length=64)
    lead_minutes = forms.IntegerField(
        label=_("Notify me before a call or meeting (minutes)"),
        min_value=0,
        max_value=MAX_LEAD_MINUTES,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": MAX_LEAD_MINUTES, "step": 1}),
        help_text=_("0 to 1440 (a day). 0: when it starts."),
    )
    email_notifications = forms.BooleanField(label=_("Email me my notifications too"), required=False)
    digest_enabled = forms.BooleanField(
        label=_("Morning digest: email me the day's agenda at 08:00 (my time)"), required=False
    )

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"].strip()
        if not is_time_zone(name):
            raise forms.ValidationError(_("Choose a time zone from the list (e.g. Europe/London, Asia/Kolkata)."))
        return name
