"""The outbox's two tables.

``Event`` is one thing that happened, written by the owning app's service in the same transaction as the change, so a
change is never published without its event nor an event without its change. ``pending_for`` lists the consumers
(settings.OUTBOX_CONSUMERS) that have not taken it yet; a consumer claims a batch by removing its name
(outbox.services.events_claim), and an event nobody waits for is purged after OUTBOX_EVENT_RETENTION_DAYS.

``Tombstone`` records that a row the API lists was hard-deleted (subject type + id + when), read by
GET /api/v1/deletions/ in (deleted_at, id) order and purged after OUTBOX_TOMBSTONE_RETENTION_DAYS.
"""

from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Every topic an owning service emits (the webhooks' subscription choices come from here too).
TOPICS = (
    "partner.created", "partner.updated", "partner.status_changed",
    "activity.scheduled", "activity.rescheduled", "activity.done", "activity.cancelled",
    "lead.created", "lead.updated", "lead.stage_changed", "lead.converted",
    "deal.submitted", "deal.decided", "deal.updated",
    "achievements.uploaded",
)


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    topic = models.CharField(max_length=60)
    subject_type = models.CharField(max_length=30)  # "partner", "activity", "lead", "deal", "upload_batch"
    subject_id = models.BigIntegerField()
    payload = models.JSONField(encoder=DjangoJSONEncoder)  # what a receiver wants: ids, codes, names, states; no secrets
    occurred_at = models.DateTimeField(default=timezone.now)
    pending_for = ArrayField(models.CharField(max_length=30), default=list, blank=True)

    class Meta:
        indexes = [
            # The claim's scan: only events someone still waits for, in id order (small whatever the history).
            models.Index(fields=["id"], condition=~Q(pending_for=[]), name="outbox_event_pending_idx"),
            models.Index(fields=["occurred_at"], name="outbox_event_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.subject_type}#{self.subject_id}"


class Tombstone(models.Model):
    id = models.BigAutoField(primary_key=True)
    subject_type = models.CharField(max_length=30)  # "target", "achievement", …
    subject_id = models.BigIntegerField()
    deleted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["subject_type", "deleted_at", "id"], name="outbox_tombstone_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_type}#{self.subject_id} deleted {self.deleted_at:%Y-%m-%d %H:%M}"
