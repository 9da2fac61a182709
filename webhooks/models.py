"""Webhook endpoints and their deliveries. Written only by webhooks.services.

An ``Endpoint`` belongs to the manager (or admin) who made it; its secret is stored encrypted (webhooks.crypto). A
``Delivery`` is one outbox event for one endpoint: the message id stays the same across retries (``webhook-id``, so
receivers can drop duplicates), the payload is a snapshot taken at fan-out, and the row carries the retry state and
the last attempt's outcome for the delivery log.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q

from outbox.models import TOPICS as OUTBOX_TOPICS
from prm.choices import ChoiceDisplayMixin

# What an endpoint can subscribe to: the outbox's topics (outbox.models.TOPICS), with the names people read.
TOPIC_LABELS = {
    "partner.created": "Partner created",
    "partner.updated": "Partner updated",
    "partner.status_changed": "Partner status changed",
    "activity.scheduled": "Activity scheduled",
    "activity.rescheduled": "Activity rescheduled or edited",
    "activity.done": "Activity done",
    "activity.cancelled": "Activity cancelled",
    "lead.created": "Lead created",
    "lead.updated": "Lead edited",
    "lead.stage_changed": "Lead stage changed",
    "lead.converted": "Lead converted",
    "deal.submitted": "Deal registration submitted",
    "deal.decided": "Deal registration decided",
    "deal.updated": "Deal registration changed (stage, win or loss, extension, expiry; a CRM change)",
    "achievements.uploaded": "Achievements uploaded",
}
TOPIC_NAMES = tuple(OUTBOX_TOPICS)
TOPICS = tuple((name, TOPIC_LABELS.get(name, name)) for name in TOPIC_NAMES)
TEST_TOPIC = "webhook.test"  # the page's "Send a test event"


class Endpoint(models.Model):
    """A URL that receives signed webhooks. ``events`` empty = every topic. ``failing_since``: the first failed
    attempt since the last success (cleared by a success); past WEBHOOK_DISABLE_AFTER_DAYS the endpoint is disabled."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.CharField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=60, choices=TOPICS), default=list, blank=True,
                        help_text="Topics sent to it; none = all.")
    secret_encrypted = models.TextField()  # Fernet token (webhooks.crypto); the secret is shown once, at creation/rotation
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="webhook_endpoint_owner_idx"),
        ]

    def __str__(self):
        return self.url

    def subscribes_to(self, topic: str) -> bool:
        return not self.events or topic in self.events


class Delivery(ChoiceDisplayMixin, models.Model):
    """One event sent (or to be sent) to one endpoint."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (dead letter)"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event_id = models.BigIntegerField(null=True, blank=True)  # the outbox event (none for a test event)
    topic = models.CharField(max_length=60)
    message_id = models.CharField(max_length=40, unique=True)  # "msg_…": the webhook-id header, the same on every try
    payload = models.JSONField()  # the event's data when it was fanned out
    occurred_at = models.DateTimeField()  # the body's "timestamp"
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a pending row is due. A worker's claim moves it to the end of the claim's lease and sets its token, so a
    # crashed worker's rows come due again by themselves; the outcome is written only under the same token.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)  # HTTP status of the last answer
    last_error = models.CharField(max_length=500, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            # the fan-out is idempotent: an event reaches an endpoint once (ON CONFLICT DO NOTHING)
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once_per_event"),
        ]
        indexes = [
            # the workers' claim: due pending rows in order
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="webhook_delivery_due_idx"),
            # the delivery log: an endpoint's newest first
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log_idx"),
            # the daily purge of old rows: rows are appended in time order, so a BRIN index (a few pages) finds them
            BrinIndex(fields=["created_at"], name="webhook_delivery_created_brin"),
        ]

    def __str__(self):
        return f"{self.message_id} {self.topic} → endpoint {self.endpoint_id}"
