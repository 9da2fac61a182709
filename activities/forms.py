"""Forms for scheduling, reminding, logging, completing and cancelling activities. They only validate; the views
hand ``service_kwargs()`` to activities.services."""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from activities.models import Activity

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
# A time typed a moment ago still counts as "now" when scheduling.
GRACE = timedelta(minutes=5)


class WhenForm(forms.Form):
    date = forms.DateField(widget=DATE_INPUT)
    time = forms.TimeField(widget=TIME_INPUT)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("time"):
            cleaned["start_at"] = timezone.make_aware(datetime.combine(cleaned["date"], cleaned["time"]))
        return cleaned


class PlaceMixin(forms.Form):
    """A location of the partner, or a typed place, not both."""

    location = forms.ModelChoiceField(queryset=None, required=False, empty_label="— none / type a place —")
    place = forms.CharField(max_length=255, required=False, help_text="An address, when not one of the locations.")

    def setup_locations(self, partner):
        self.fields["location"].queryset = partner.locations.order_by("-is_primary", "id")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("location") and (cleaned.get("place") or "").strip():
            self.add_error("place", "Choose one of the partner's locations or type a place, not both.")
        return cleaned

    def engagement_kwargs(self):
        """The service arguments a scheduled or logged call/meeting share (kind, when, how long, where, subject)."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "start_at": data["start_at"],
            "duration_minutes": data["duration_minutes"],
            "location": data["location"],
            "place": data["place"].strip(),
            "subject": data["subject"],
        }


class ActivityScheduleForm(PlaceMixin, WhenForm):
    kind = forms.ChoiceField(
        choices=[(Activity.Kind.CALL, "Call"), (Activity.Kind.MEETING, "Meeting")], initial=Activity.Kind.MEETING
    )
    duration_minutes = forms.IntegerField(min_value=5, max_value=24 * 60, initial=30, label="Duration (minutes)")
    subject = forms.CharField(max_length=200, required=False)

    field_order = ["kind", "date", "time", "duration_minutes", "location", "place", "subject"]

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_locations(partner)

    def clean(self):
        cleaned = super().clean()
        start_at = cleaned.get("start_at")
        if start_at and start_at < timezone.now() - GRACE:
            self.add_error("date", "That time has passed: pick a future time, or log the activity instead.")
        return cleaned

    def service_kwargs(self):
        return self.engagement_kwargs()


class ActivityRemindForm(WhenForm):
    subject = forms.CharField(max_length=200, label="Remind me to")

    field_order = ["subject", "date", "time"]

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)

    def service_kwargs(self):
        return {"start_at": self.cleaned_data["start_at"], "subject": self.cleaned_data["subject"]}


class ActivityLogForm(PlaceMixin, WhenForm):
    kind = forms.ChoiceField(choices=[(k, label) for k, label in Activity.Kind.choices if k != Activity.Kind.TASK])
    duration_minutes = forms.IntegerField(
        min_value=1, max_value=24 * 60, required=False, label="Duration (minutes)"
    )
    subject = forms.CharField(max_length=200, required=False)
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    field_order = ["kind", "date", "time", "duration_minutes", "location", "place", "subject", "outcome"]

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_locations(partner)

    def clean(self):
        cleaned = super().clean()
        start_at = cleaned.get("start_at")
        if start_at and start_at > timezone.now():
            self.add_error("date", "That is in the future: schedule it instead.")
        return cleaned

    def service_kwargs(self):
        return {**self.engagement_kwargs(), "outcome": self.cleaned_data["outcome"]}


class ActivityCompleteForm(forms.Form):
    outcome = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="What happened, what is next."
    )


class ActivityCancelForm(forms.Form):
    outcome = forms.CharField(max_length=500, required=False, label="Reason")
