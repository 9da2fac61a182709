from django import forms

from webhooks.models import TOPICS
from webhooks.targets import URL_MAX_LENGTH


class EndpointForm(forms.Form):
    url = forms.CharField(label="URL", max_length=URL_MAX_LENGTH,
                          widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/prm",
                                                       "autocomplete": "off", "inputmode": "url"}),
                          help_text="Where the events are POSTed. Only public https:// or http:// addresses.")
    description = forms.CharField(max_length=200, required=False, help_text="What receives them, e.g. \"BI sync\".")
    events = forms.MultipleChoiceField(choices=TOPICS, required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text="None ticked: every event, including ones added later.")


class EndpointEditForm(EndpointForm):
    is_active = forms.BooleanField(label="Active (receives events)", required=False)
