"""Forms of the ticket pages. They only validate; the views hand ``service_kwargs()`` to service.services."""

from django import forms
from django.contrib.auth import get_user_model

from partners.selectors import assignable_users
from service.models import Ticket

TEXT_MAX = 20_000  # a description or comment longer than this is a pasted log: attach it as a file


def user_label(user) -> str:
    return user.get_full_name() or user.get_username()


class AssigneeField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return user_label(obj)


class TicketCreateForm(forms.Form):
    subject = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=TEXT_MAX,
                                  help_text="What the customer asked or reported.")
    type = forms.ChoiceField(choices=Ticket.Type.choices, initial=Ticket.Type.QUESTION)
    priority = forms.ChoiceField(choices=Ticket.Priority.choices, initial=Ticket.Priority.NORMAL,
                                 help_text="Sets when the first response and the resolution are due.")
    assignee = AssigneeField(queryset=get_user_model().objects.none(), required=False, empty_label="Nobody yet")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users()
        if not self.is_bound:
            self.fields["assignee"].initial = user.pk

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"subject": data["subject"], "description": data["description"], "type": data["type"],
                "priority": data["priority"], "assignee": data["assignee"]}


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=TEXT_MAX,
                           label="Comment")
    internal = forms.BooleanField(required=False, label="Internal note (not a reply to the customer)")
    file = forms.FileField(required=False, label="Attach a file",
                           widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,"
                                                                             ".csv,.docx,.xlsx"}))

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("body") or "").strip() and not cleaned.get("file") and not self.errors:
            self.add_error("body", "Write a comment (or attach a file).")
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"body": data["body"], "internal": data["internal"], "upload": data.get("file") or None}


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    note = forms.CharField(max_length=300, required=False, label="Note (optional)")


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Ticket.Priority.choices)


class AssignForm(forms.Form):
    assignee = AssigneeField(queryset=get_user_model().objects.none(), required=False, empty_label="Nobody")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users()
