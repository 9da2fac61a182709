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

    def __init__(self, *args, remote_choices: list[tuple[str, str]] | None = None,
                 values: list[tuple[str, str, str]] | None = None, **kwargs):
        """``values``: (PRM value, its label, the CRM value now) of a field whose values differ (lead stage ↔
        Status): one input each, saved in the mapping's value_map."""
        super().__init__(*args, **kwargs)
        for local, label, remote in values or []:
            self.fields[f"value__{local}"] = forms.CharField(label=f"CRM value for “{label}”", max_length=255,
                                                             initial=remote, required=False)
        if remote_choices:
            current = self.instance.remote_field
            names = {name for name, _label in remote_choices}
            if current and current not in names:
                remote_choices = [(current, f"{current} (no longer in the CRM)"), *remote_choices]
            self.fields["remote_field"] = forms.ChoiceField(label="Remote field", choices=remote_choices)

    def clean(self):
        data = super().clean()
        entered = {name.removeprefix("value__"): value.strip() for name, value in data.items()
                   if name.startswith("value__") and isinstance(value, str) and value.strip()}
        if any(name.startswith("value__") for name in self.fields):
            self.instance.value_map = entered  # a box left empty: that value's default
        return data


class MappingAddForm(MappingForm):
    """A new mapping of one object: the PRM field is picked among those not mapped yet (for partners, their
    configurable profile fields too), the CRM field from the describe call."""

    class Meta(MappingForm.Meta):
        fields = ["local_field", *MappingForm.Meta.fields]

    def __init__(self, *args, local_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["local_field"] = forms.ChoiceField(label="PRM field", choices=local_choices)
        self.order_fields(self.Meta.fields)
