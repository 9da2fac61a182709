"""Service tickets raised against customers (issue 13): tickets, comments, attachments, service levels.

Layer 2 (shared/DESIGN.md), beside activities: may import leads, partners, notifications and prm. Every write goes
through ``service.services`` (the admin is read-only, except the service levels, saved through the same services).

The service-level clock of a ticket is stored on the ticket (``first_response_due_at``, ``resolution_due_at``), so
lists sort and filter on indexed columns; ``service.sla`` says how the dates are computed and shifted.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from prm.choices import ChoiceDisplayMixin

MAX_SLA_MINUTES = 365 * 24 * 60  # a service level of at most a year


class Ticket(ChoiceDisplayMixin, models.Model):
    """One service request of a customer, worked by an assignee against the service level of its priority."""

    class Type(models.TextChoices):
        QUESTION = "question", "Question"
        INCIDENT = "incident", "Incident"
        PROBLEM = "problem", "Problem"
        REQUEST = "request", "Request"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        WAITING = "waiting", "Waiting on customer"
        ON_HOLD = "on_hold", "On hold"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    # Not resolved or closed: what "open tickets" means in the lists (and in the partial indexes below).
    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING, Status.ON_HOLD)
    # The clock runs only while the ticket is with us; it stops while waiting on the customer or on hold (paused_at),
    # and at resolution (a reopened ticket goes on from where its clock stopped: service.sla).
    RUNNING_STATUSES = (Status.NEW, Status.OPEN)
    PAUSED_STATUSES = (Status.WAITING, Status.ON_HOLD)
    DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)
    # Most urgent first (for sorting in Python and SQL).
    PRIORITY_RANK = {Priority.URGENT: 4, Priority.HIGH: 3, Priority.NORMAL: 2, Priority.LOW: 1}

    customer = models.ForeignKey(
        "leads.Customer", on_delete=models.PROTECT, related_name="tickets", db_index=False,  # ticket_customer_idx
    )
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.QUESTION)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_tickets",
        db_index=False,  # ticket_assignee_idx and ticket_open_assignee_due_idx lead with it
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # The service level, stored: computed at creation from the priority's ServiceLevel, recomputed on a priority
    # change, shifted by the time the clock was stopped (service.sla).
    first_response_due_at = models.DateTimeField()
    resolution_due_at = models.DateTimeField()
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(
        null=True, blank=True, help_text="Since when the clock is stopped (waiting on customer, on hold, resolved)."
    )
    paused_total = models.DurationField(
        default=timedelta, help_text="How long the clock was stopped before (added to the due dates)."
    )
    # Set by the breach claim (service.breach), so each breach is notified once; cleared when a new due date makes the
    # ticket on time again (a priority change).
    response_breach_notified_at = models.DateTimeField(null=True, blank=True)
    resolution_breach_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["resolution_due_at", "id"]
        indexes = [
            # The tickets list: a rep's open tickets by due date ("mine", the default), everyone's open ones by due
            # date (a manager's default, the breached filter: the oldest due dates are mostly closed tickets, so the
            # full due-date index below would walk through them first), one customer's, one status's.
            models.Index(
                fields=["assignee", "resolution_due_at", "id"], condition=Q(status__in=["new", "open", "waiting",
                                                                                         "on_hold"]),
                name="ticket_open_assignee_due_idx",
            ),
            models.Index(
                fields=["resolution_due_at", "id"], condition=Q(status__in=["new", "open", "waiting", "on_hold"]),
                name="ticket_open_due_idx",
            ),
            # Any status (a manager's "Any status", "Newest"): by due date, by creation.
            models.Index(fields=["resolution_due_at", "id"], name="ticket_due_idx"),
            models.Index(fields=["created_at", "id"], name="ticket_created_idx"),
            models.Index(fields=["assignee", "created_at"], name="ticket_assignee_idx"),
            models.Index(fields=["customer", "created_at"], name="ticket_customer_idx"),
            models.Index(fields=["status", "resolution_due_at", "id"], name="ticket_status_due_idx"),
            # The breach claims (every minute): only the tickets whose breach is still to be notified.
            models.Index(
                fields=["first_response_due_at"],
                condition=Q(status__in=["new", "open"], first_responded_at__isnull=True,
                            response_breach_notified_at__isnull=True),
                name="ticket_response_breach_idx",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=Q(status__in=["new", "open"], resolution_breach_notified_at__isnull=True),
                name="ticket_resolution_breach_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(resolution_due_at__gte=models.F("first_response_due_at")),
                                   name="ticket_resolution_after_response"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def priority_rank(self) -> int:
        return self.PRIORITY_RANK.get(self.priority, 0)

    def response_clock(self, now=None):
        """The first-response clock (``service.sla.Clock``): met, due in, overdue by, paused. No query."""
        from service.sla import clock  # noqa: PLC0415 (sla imports this module)

        return clock(due_at=self.first_response_due_at, done_at=self.first_responded_at, paused_at=self.paused_at,
                     now=now, finished=self.status in self.DONE_STATUSES)

    def resolution_clock(self, now=None):
        """The resolution clock (``service.sla.Clock``)."""
        from service.sla import clock  # noqa: PLC0415

        return clock(due_at=self.resolution_due_at, done_at=self.resolved_at, paused_at=self.paused_at, now=now)


class TicketComment(models.Model):
    """A reply or note on a ticket. ``internal`` notes are for staff only; the first public comment is the first
    response (``service.services.ticket_comment``)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments", db_index=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField()
    internal = models.BooleanField(default=False, help_text="A note for staff, not a reply to the customer.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketcomment_ticket_idx")]

    def __str__(self):
        return f"{self.ticket_id}: {self.body[:40]}"


def attachment_path(instance, filename: str) -> str:
    """A random name under ``tickets/``: never the uploaded name (which is kept in ``original_name``), so nothing the
    user chose reaches the file system, and names cannot be guessed or collide."""
    return f"tickets/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class TicketAttachment(models.Model):
    """A file attached to a ticket (optionally with a comment). Validated by ``service.attachments``; stored through
    Django's storage under a random name; served only by the permission-checked download view, as a download."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments", db_index=False)
    comment = models.ForeignKey(
        TicketComment, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments",
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, help_text="What it is served as (from the checked type).")
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketattachment_ticket_idx")]

    def __str__(self):
        return self.original_name


class TicketStatusChange(ChoiceDisplayMixin, models.Model):
    """One row per change of a ticket's status, priority or assignee: its history."""

    class Field(models.TextChoices):
        STATUS = "status", "Status"
        PRIORITY = "priority", "Priority"
        ASSIGNEE = "assignee", "Assignee"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="history", db_index=False)
    field = models.CharField(max_length=10, choices=Field.choices, default=Field.STATUS)
    from_value = models.CharField(max_length=150, blank=True)
    to_value = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["ticket", "changed_at"], name="ticketstatus_ticket_idx")]

    def __str__(self):
        return f"{self.ticket_id}: {self.field} {self.from_value or '—'} → {self.to_value}"


class ServiceLevel(ChoiceDisplayMixin, models.Model):
    """How fast a ticket of a priority must be answered and resolved (calendar time, around the clock). One row per
    priority, created by the data migration 0002_default_service_levels; edited in the admin. A change applies to
    tickets created (or re-prioritised) after it: a ticket keeps the dates it was given."""

    priority = models.CharField(max_length=10, choices=Ticket.Priority.choices, unique=True)
    first_response_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_MINUTES)],
        help_text="The first public reply is due this many minutes after the ticket is created.",
    )
    resolution_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_MINUTES)],
        help_text="The ticket is due to be resolved this many minutes after it is created (clock stops excluded).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["first_response_minutes", "priority"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_minutes__gte=1, resolution_minutes__gte=models.F("first_response_minutes")),
                name="service_level_resolution_after_response",
                violation_error_message="The resolution time must not be shorter than the first response time.",
            ),
        ]

    def __str__(self):
        return f"{self.get_priority_display()}: {self.first_response_minutes} / {self.resolution_minutes} min"
