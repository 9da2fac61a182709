"""Forms of the CRM sync pages. The client secret is a password field that is never rendered back."""

from django import forms

from integrations.models import FieldMapping


class CredentialsForm(forms.Form):
    client_id = forms.CharField(label="Consumer key (client id)", max_length=300)
    client_secret = forms.CharField(label="Consumer secret", max_length=300,
                                    widget=forms.PasswordInput(render_value=False),
                                    help_text="Stored encrypted; never shown again.")


class ConnectionForm(CredentialsForm):
    name = forms.CharField(max_length=100)
    instance_url = forms.URLField(label="Instance URL", help_text="Your My Domain URL, e.g. "
                                  "https://yourcompany.my.salesforce.com", assume_scheme="https")
    field_order = ["name", "instance_url", "client_id", "client_secret"]

    def clean_instance_url(self):
        url = self.cleaned_data["instance_url"]
        if not url.startswith("https://"):
            raise forms.ValidationError("The instance URL must start with https://")
        return url


class MappingForm(forms.ModelForm):
    """``remote_choices``: the remote fields from the describe call ((name, label) pairs), or None when the CRM could
    not be asked (then the API name is typed)."""

    class Meta:
        model = FieldMapping
        fields = ["remote_field", "direction", "apply_on", "conflict_rule", "fixed_value"]

    def __init__(self, *args, remote_choices: list[tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if remote_choices:
            current = self.instance.remote_field
            names = {name for name, _label in remote_choices}
            if current and current not in names:
                remote_choices = [(current, f"{current} (no longer in the CRM)"), *remote_choices]
            self.fields["remote_field"] = forms.ChoiceField(label="Remote field", choices=remote_choices)
