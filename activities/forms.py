"""Forms for scheduling, reminding, logging, completing and cancelling activities. They only validate; the views
hand ``service_kwargs()`` to activities.services.

The same forms serve a partner's and a customer's activities: they take ``partner=`` or ``customer=`` (whom the
activity is with) for the "Location" choices — that one's locations — and nothing else differs."""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from activities.models import Activity
from leads.models import Customer, Lead
from partners.models import ContactPoint, Partner

# One picker for date and time (the phone's own), in the active time zone (DateTimeField reads the value in it).
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "60"}, format=DATETIME_FORMAT)
MINUTES_INPUT = forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"})
# A time typed a moment ago still counts as "now" when scheduling.
GRACE = timedelta(minutes=5)


def now_minute() -> datetime:
    """Now in the active time zone, to the minute: what "Log activity" starts with."""
    return timezone.localtime().replace(second=0, microsecond=0)


def next_hour() -> datetime:
    """The next full hour in the active time zone: what "Schedule" and "Reminder" start with."""
    return timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


class WhenForm(forms.Form):
    start_at = forms.DateTimeField(
        widget=DATETIME_INPUT, label="When",
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


def _whom(partner: Partner | None, customer: Customer | None) -> Partner | Customer:
    """The partner or the customer the activity is with (exactly one is given)."""
    if (partner is None) == (customer is None):
        raise TypeError("pass partner= or customer=")
    return partner if partner is not None else customer


class PlaceMixin(forms.Form):
    """A location of the partner (or customer), or a typed place, not both."""

    location = forms.ModelChoiceField(queryset=None, required=False, empty_label="— none / type a place —")
    place = forms.CharField(max_length=255, required=False, help_text="An address, when not one of the locations.")

    def setup_locations(self, whom: Partner | Customer):
        self.whom_label = "customer" if isinstance(whom, Customer) else "partner"
        self.fields["location"].queryset = whom.locations.order_by("-is_primary", "id")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("location") and (cleaned.get("place") or "").strip():
            self.add_error("place", f"Choose one of the {self.whom_label}'s locations or type a place, not both.")
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
    duration_minutes = forms.IntegerField(
        min_value=5, max_value=24 * 60, initial=30, label="Duration (minutes)", widget=MINUTES_INPUT
    )
    subject = forms.CharField(max_length=200, required=False)

    field_order = ["kind", "start_at", "duration_minutes", "location", "place", "subject"]

    def __init__(self, *args, partner: Partner | None = None, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_locations(_whom(partner, customer))
        self.fields["start_at"].initial = next_hour

    def clean(self):
        cleaned = super().clean()
        start_at = cleaned.get("start_at")
        if start_at and start_at < timezone.now() - GRACE:
            self.add_error("start_at", "That time has passed: pick a future time, or log the activity instead.")
        return cleaned

    def service_kwargs(self):
        return self.engagement_kwargs()


# --- A follow-up of a lead (issue 13: "Schedule follow-up" on a lead's page links here with ?lead=<id>) ---------------


class ActivityFollowUpForm(ActivityScheduleForm):
    """The schedule form, plus the lead the call/meeting is about (a hidden ``lead`` id): only a lead of this partner
    counts; anything else (another partner's lead, a customer's schedule form, a mangled value) schedules without a
    lead rather than failing on a field the user cannot see. The service takes it as ``lead=``."""

    lead = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, partner: Partner | None = None, customer: Customer | None = None, **kwargs):
        super().__init__(*args, partner=partner, customer=customer, **kwargs)
        self.partner = partner

    def clean_lead(self) -> Lead | None:
        return follow_up_lead(partner=self.partner, lead_id=self.cleaned_data["lead"])

    def service_kwargs(self):
        return {**super().service_kwargs(), "lead": self.cleaned_data["lead"]}


def follow_up_lead(*, partner: Partner | None, lead_id: object) -> Lead | None:
    """The lead ``lead_id`` if it is ``partner``'s, else None (one query, none for a value that is no id)."""
    lead_id = str(lead_id or "").strip()
    if partner is None or not lead_id.isdigit() or len(lead_id) > 18:
        return None
    return Lead.objects.filter(pk=int(lead_id), partner=partner).only("name", "partner_id").first()


def follow_up_initial(*, partner: Partner | None, params: dict) -> dict:
    """The follow-up form's initial values from ``?kind=`` (call or meeting) and ``?lead=<id>`` (a lead of this
    partner: kept in the hidden field, its name in the subject); anything else is ignored. At most one query."""
    initial = {}
    if params.get("kind") in (Activity.Kind.CALL, Activity.Kind.MEETING):
        initial["kind"] = params["kind"]
    lead = follow_up_lead(partner=partner, lead_id=params.get("lead"))
    if lead is not None:
        initial["lead"] = lead.pk
        initial["subject"] = f"Follow up: {lead.name}"[:200]
    return initial


class ActivityRemindForm(WhenForm):
    subject = forms.CharField(max_length=200, label="Remind me to")

    field_order = ["subject", "start_at"]

    def __init__(self, *args, partner: Partner | None = None, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_at"].initial = next_hour

    def service_kwargs(self):
        return {"start_at": self.cleaned_data["start_at"], "subject": self.cleaned_data["subject"]}


class ActivityLogForm(PlaceMixin, WhenForm):
    kind = forms.ChoiceField(choices=[(k, label) for k, label in Activity.Kind.choices if k != Activity.Kind.TASK])
    channel = forms.ChoiceField(
        choices=[("", "—")] + list(ContactPoint.Channel.choices), required=False, label="Channel",
        help_text="How it happened: it tells the partner's usual channel.",
    )
    duration_minutes = forms.IntegerField(
        min_value=1, max_value=24 * 60, required=False, label="Duration (minutes)", widget=MINUTES_INPUT
    )
    subject = forms.CharField(max_length=200, required=False)
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    field_order = ["kind", "channel", "start_at", "duration_minutes", "location", "place", "subject", "outcome"]

    def __init__(self, *args, partner: Partner | None = None, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_locations(_whom(partner, customer))
        self.fields["start_at"].initial = now_minute

    def clean(self):
        cleaned = super().clean()
        start_at = cleaned.get("start_at")
        if start_at and start_at > timezone.now() + timedelta(minutes=1):  # "now" typed to the minute still counts
            self.add_error("start_at", "That is in the future: schedule it instead.")
        elif start_at and start_at > timezone.now():
            cleaned["start_at"] = timezone.now()
        return cleaned

    def service_kwargs(self):
        return {**self.engagement_kwargs(), "outcome": self.cleaned_data["outcome"],
                "channel": self.cleaned_data["channel"]}


def log_initial(*, partner: Partner | None = None, customer: Customer | None = None, params: dict) -> dict:
    """The log form's initial values from "Log this …" (``?kind=&channel=&contact=`` after a quick action, see
    static/js/quick.js): each is used only when valid — a known kind and channel, a contact id of this partner or
    customer (its value and label become the subject) — anything else is ignored. At most one query (the
    contact)."""
    initial = {}
    kind = params.get("kind")
    if kind in dict(ActivityLogForm.base_fields["kind"].choices):
        initial["kind"] = kind
    channel = params.get("channel")
    if channel in ContactPoint.Channel.values:
        initial["channel"] = channel
    contact_id = params.get("contact", "")
    if contact_id.isdigit() and len(contact_id) < 19:
        contacts = partner.contact_points if partner is not None else customer.contacts
        contact = contacts.filter(pk=int(contact_id)).only("value", "label").first()
        if contact is not None:
            initial["subject"] = contact.value + (f" ({contact.label})" if contact.label else "")
    return initial


class ActivityCompleteForm(forms.Form):
    outcome = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="What happened, what is next."
    )


class ActivityCancelForm(forms.Form):
    outcome = forms.CharField(max_length=500, required=False, label="Reason")


# --- Edit / reschedule a planned activity (activities.services.activity_reschedule) -----------------------------------


class _RescheduleMixin:
    """The edit forms start from ``self.activity``. Its time is shown to the minute: posted back unchanged, the stored
    time (seconds and all) is kept, so saving an untouched form changes nothing. A new time must not be past."""

    def clean_start_at(self):
        start_at = self.cleaned_data["start_at"]
        stored = self.activity.start_at
        if start_at.replace(second=0, microsecond=0) == stored.replace(second=0, microsecond=0):
            return stored
        if start_at < timezone.now() - GRACE:
            raise forms.ValidationError("That time has passed: pick a future time.")
        return start_at


class ActivityEditForm(_RescheduleMixin, PlaceMixin, WhenForm):
    """A planned call or meeting: when, how long, where, subject (the kind stays)."""

    duration_minutes = forms.IntegerField(
        min_value=1, max_value=24 * 60, required=False, label="Duration (minutes)", widget=MINUTES_INPUT
    )
    subject = forms.CharField(max_length=200, required=False)

    field_order = ["start_at", "duration_minutes", "location", "place", "subject"]

    def __init__(
        self, data=None, *, activity: Activity, partner: Partner | None = None, customer: Customer | None = None
    ):
        self.activity = activity
        initial = {
            "start_at": activity.start_at, "duration_minutes": activity.duration_minutes,
            "location": activity.location_id, "place": activity.place, "subject": activity.subject,
        }
        super().__init__(data, initial=initial)
        self.setup_locations(_whom(partner, customer))

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "start_at": data["start_at"], "duration_minutes": data["duration_minutes"], "location": data["location"],
            "place": data["place"].strip(), "subject": data["subject"],
        }


class ActivityReminderEditForm(_RescheduleMixin, ActivityRemindForm):
    """A planned reminder: what and when."""

    def __init__(
        self, data=None, *, activity: Activity, partner: Partner | None = None, customer: Customer | None = None
    ):
        self.activity = activity
        super().__init__(data, initial={"start_at": activity.start_at, "subject": activity.subject})

    def service_kwargs(self):
        return {**super().service_kwargs(), "duration_minutes": None, "location": None, "place": ""}


def activity_edit_form(
    *, activity: Activity, partner: Partner | None = None, customer: Customer | None = None, data=None
) -> forms.Form:
    """The edit form that fits ``activity`` (a reminder's, or a call/meeting's)."""
    form_class = ActivityReminderEditForm if activity.mode == Activity.Mode.REMINDER else ActivityEditForm
    return form_class(data, activity=activity, partner=partner, customer=customer)
