"""In-app notifications and each user's preferences (time zone, lead time, digest, calendar feed token).

Layer 1 (shared/DESIGN.md): this app imports nothing above ``partners``; higher apps (activities, dashboard) call its
services with what they know (recipient, text, link).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from prm.choices import ChoiceDisplayMixin


class Notification(ChoiceDisplayMixin, models.Model):
    """One message for one user: shown in the bell and the list, and (when the user wants email) emailed once."""

    class Event(models.TextChoices):
        REMINDER_DUE = "reminder_due", "Reminder due"
        STARTS_SOON = "starts_soon", "Starting soon"
        DIGEST = "digest", "Morning digest"
        INSIGHTS = "insights", "New suggestions"
        TICKET_BREACH = "ticket_breach", "Ticket past its service level"  # service.breach
        TICKET_ASSIGNED = "ticket_assigned", "Ticket assigned to you"  # service.services.ticket_assign
        # The partner portal (portal.*): to staff reviewers and to partner users
        DEAL_SUBMITTED = "deal_submitted", "Deal registration submitted"
        DEAL_DECIDED = "deal_decided", "Deal registration decided"
        DEAL_REMINDER = "deal_reminder", "Deal registration waiting for review"
        DEAL_EXPIRING = "deal_expiring", "Deal protection expiring"
        LEAD_SHARED = "lead_shared", "Lead shared with you"
        LEAD_REMINDER = "lead_reminder", "Shared lead deadline"
        LEAD_RETURNED = "lead_returned", "Shared lead returned"
        PROFILE_UPDATE = "profile_update", "Partner profile update"
        ACCESS_REQUEST = "access_request", "Request to join"
        ANNOUNCEMENT = "announcement", "Message from the vendor"
        # Onboarding (library.onboarding_services): questions to the rep and their answers, reviews, reminders
        ONBOARDING_QUESTION = "onboarding_question", "Onboarding question"
        ONBOARDING_ANSWER = "onboarding_answer", "Answer to your onboarding question"
        ONBOARDING_UPLOAD = "onboarding_upload", "Onboarding document to review"
        ONBOARDING_REVIEW = "onboarding_review", "Onboarding document reviewed"
        ONBOARDING_REMINDER = "onboarding_reminder", "Onboarding reminder"
        ONBOARDING_DONE = "onboarding_done", "Onboarding track completed"
        # Webhooks (webhooks.services): an endpoint switched off after failing for days
        WEBHOOK_DISABLED = "webhook_disabled", "Webhook endpoint disabled"
        # CRM sync (integrations.services): the CRM refused the connection's credentials (401/403)
        CRM_SYNC_FAILING = "crm_sync_failing", "CRM sync failing"

    class Email(models.TextChoices):
        NONE = "none", "Not emailed"
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # No index of its own: the unique (recipient, event, source_key) and notification_recipient_idx lead with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    event = models.CharField(max_length=20, choices=Event.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="A path inside the app, e.g. /partners/12/.")
    # What it is about, for de-duplication: (event, source_key) is unique per recipient, e.g. "activity:42:3".
    source_key = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=10, choices=Email.choices, default=Email.NONE)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=500, blank=True, default="", db_default="",
                                   help_text="Why the last try to email it failed (cleared when sent).")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event", "source_key"], name="notification_once_per_source"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
            models.Index(
                fields=["email_state", "id"], condition=Q(email_state__in=["pending", "sending"]),
                name="notification_email_todo_idx",
            ),
        ]

    def __str__(self):
        return f"{self.recipient_id}: {self.title}"


class Preference(models.Model):
    """A user's own settings. No row = the defaults (organisation time zone, 15 minutes, email on, no digest)."""

    DEFAULT_LEAD_MINUTES = 15

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="preference"
    )
    time_zone = models.CharField(max_length=64, blank=True, help_text="IANA name; blank = the organisation's.")
    lead_minutes = models.PositiveSmallIntegerField(
        default=DEFAULT_LEAD_MINUTES, validators=[MinValueValidator(0), MaxValueValidator(24 * 60)],
        help_text="Notify this many minutes before a scheduled call or meeting starts.",
    )
    email_notifications = models.BooleanField(default=True)
    digest_enabled = models.BooleanField(default=False, help_text="Email the day's agenda at 08:00.")
    digest_next_at = models.DateTimeField(null=True, blank=True, help_text="When the next digest is due (claimed).")
    calendar_token_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the feed token.")
    calendar_token_created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(lead_minutes__lte=24 * 60), name="preference_lead_minutes_range"),
            models.UniqueConstraint(
                fields=["calendar_token_hash"], condition=~Q(calendar_token_hash=""), name="preference_token_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["digest_next_at"], condition=Q(digest_enabled=True), name="preference_digest_due_idx"),
        ]

    def __str__(self):
        return f"Preferences of {self.user_id}"
