from django.conf import settings
from django.db import models
from django.db.models import Q

from partners.models import ContactPoint
from prm.choices import ChoiceDisplayMixin


class Activity(ChoiceDisplayMixin, models.Model):
    """An engagement with a partner or a customer: scheduled (call/meeting), a reminder (task), or logged after the
    fact."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        MESSAGE = "message", "Message"
        VISIT = "visit", "Visit"
        TASK = "task", "Task"

    class Mode(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        REMINDER = "reminder", "Reminder"
        LOGGED = "logged", "Logged"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    # Modes that count as engaging the partner (a reminder is a note to self, not an engagement).
    ENGAGEMENT_MODES = (Mode.SCHEDULED, Mode.LOGGED)

    # Whom it is with: a partner or a customer, exactly one (a DB constraint; see activities/subjects.py).
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="activities"
    )
    customer = models.ForeignKey(
        "leads.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="activities"
    )
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="activities"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    subject = models.CharField(max_length=200, blank=True)
    start_at = models.DateTimeField(help_text="When it is planned, or when it happened.")
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    location = models.ForeignKey(
        "partners.Location", on_delete=models.SET_NULL, null=True, blank=True, related_name="activities"
    )
    # A customer's activity has no ``location`` (that column points at partner locations): a customer location picked
    # in the form is copied here as its address (activities.services).
    place = models.CharField(max_length=255, blank=True, help_text="Address, when not one of the partner's locations.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="activities"
    )
    outcome = models.TextField(blank=True)
    # How a logged touch happened (WhatsApp, WeChat, SMS, call, email): set by the log form and the quick actions'
    # "Log this"; the most used channel of a partner's recent engagements is its detected preferred channel.
    channel = models.CharField(
        max_length=10, choices=ContactPoint.Channel.choices, blank=True, default="", db_default=""
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Who marked it done or cancelled it.",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    # Calendar feeds: bumped by every change a subscriber must see (time, subject, place, cancellation), so calendar
    # apps replace their copy (iCalendar SEQUENCE; the UID is stable: the id).
    sequence = models.PositiveIntegerField(default=0, db_default=0)  # db_default: bulk SQL inserts (seed_demo)
    # When the "reminder due" / "starting soon" notification was claimed by the beat task (conditional UPDATE);
    # rescheduling a planned activity clears it, so the new time notifies again.
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["partner", "status", "start_at"], name="activity_partner_status_idx"),
            models.Index(fields=["owner", "status", "start_at"], name="activity_owner_status_idx"),
            # The beat's claim of what is due: only planned, not yet notified rows are in it (small, hot).
            models.Index(
                fields=["start_at"], condition=Q(status="planned", notified_at__isnull=True),
                name="activity_notify_due_idx",
            ),
            # Today across many partners (a manager's team): planned calls/meetings of the week and due reminders, in
            # time order, without reading the done history.
            models.Index(fields=["mode", "start_at"], condition=Q(status="planned"), name="activity_planned_idx"),
            # A customer page's lists (as the partner index above); partial: partner activities are not in it.
            models.Index(
                fields=["customer", "status", "start_at"], condition=Q(customer__isnull=False),
                name="activity_customer_status_idx",
            ),
            # The API's sync order (api.pagination): a page is an index walk from the cursor; filtered by owner too.
            models.Index(fields=["updated_at", "id"], name="activity_updated_idx"),
            models.Index(fields=["owner", "updated_at", "id"], name="activity_owner_updated_idx"),
            # A rep's page: each of their partners' and customers' activities in that order, from the index alone.
            models.Index(fields=["partner", "updated_at", "id"], name="activity_partner_updated_idx"),
            models.Index(
                fields=["customer", "updated_at", "id"], condition=Q(customer__isnull=False),
                name="activity_customer_updated_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(partner__isnull=False, customer__isnull=True)
                | Q(partner__isnull=True, customer__isnull=False),
                name="activity_partner_or_customer",
            ),
            models.CheckConstraint(
                condition=~Q(mode="logged") | Q(status="done"), name="logged_activity_is_done"
            ),
        ]

    def __str__(self):
        whom = f"partner {self.partner_id}" if self.partner_id is not None else f"customer {self.customer_id}"
        return f"{self.get_kind_display()} with {whom} at {self.start_at:%Y-%m-%d %H:%M}"

    # --- Whom it is with (templates and links: the same code for a partner's and a customer's activity) ---------

    @property
    def subject_id(self) -> int | None:
        """The id of the partner or customer it is with."""
        return self.partner_id if self.partner_id is not None else self.customer_id

    @property
    def url_namespace(self) -> str:
        """The URL namespace of its pages: ``activities`` (/partners/<id>/activities/…) or ``customer_activities``
        (/customers/<id>/activities/…); ``url(a.url_namespace ~ ':complete', a.subject_id, a.pk)``."""
        return "activities" if self.partner_id is not None else "customer_activities"

    @property
    def subject_name(self) -> str:
        """The partner's or customer's name (load it with ``select_related``, or this is a query)."""
        return self.partner.name if self.partner_id is not None else self.customer.name

    @property
    def shown_subject(self) -> str:
        """The subject as shown after the kind ("Call: <this>"): without a leading repeat of the kind ("Call: x" typed
        as the subject of a call), "" when it only says the kind, so no page shows "Call: Call: …"."""
        kind = self.get_kind_display().lower()
        subject = (self.subject or "").strip()
        while subject.lower().startswith(kind + ":"):
            subject = subject[len(kind) + 1:].strip()
        return "" if subject.lower() == kind else subject
