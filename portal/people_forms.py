"""Forms of the portal's people pages and of the staff's portal-users page. They only validate; the views hand the
cleaned data to ``portal.people_services`` (which checks who may do what, and the passwords with Django's
validators)."""

from django import forms

from portal.models import Membership
from portal.people_services import EMAIL_MAX

NAME_MAX = 150


class InviteForm(forms.Form):
    """A partner admin invites a colleague."""

    email = forms.EmailField(max_length=EMAIL_MAX, label="Email address")
    name = forms.CharField(max_length=NAME_MAX, required=False, label="Name",
                           help_text="Used to greet them in the invitation.")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER,
                             help_text="Partner admins invite colleagues and manage who has access.")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"email": data["email"], "name": data["name"], "role": data["role"]}


class StaffInviteForm(forms.Form):
    """Staff invite a partner admin."""

    email = forms.EmailField(max_length=EMAIL_MAX, label="Email address")
    name = forms.CharField(max_length=NAME_MAX, required=False, label="Name")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"email": data["email"], "name": data["name"], "role": Membership.Role.ADMIN}


class DomainForm(forms.Form):
    domain = forms.CharField(max_length=253, label="E-mail domain", help_text="e.g. example.com: people with an "
                             "address there may ask to join; the partner's admins decide.")


class JoinForm(forms.Form):
    """Accepting an invitation: your name and a password (checked by Django's validators in the service)."""

    first_name = forms.CharField(max_length=NAME_MAX, label="First name")
    last_name = forms.CharField(max_length=NAME_MAX, required=False, label="Last name")
    password1 = forms.CharField(label="Password", strip=False, max_length=128,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text="At least 8 characters, not only digits, not a common password.")
    password2 = forms.CharField(label="Password again", strip=False, max_length=128,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", "The two passwords differ.")
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"first_name": data["first_name"], "last_name": data["last_name"], "password": data["password1"]}


class AccessRequestForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX, label="Your name")
    email = forms.EmailField(max_length=EMAIL_MAX, label="Your work email address")
