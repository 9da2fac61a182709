"""Reads of the outbox's tables (the API's deletions list)."""

from datetime import datetime

from django.db.models import QuerySet

from outbox.models import Tombstone


def tombstones_of(*, subject_type: str, since: datetime | None = None) -> QuerySet[Tombstone]:
    """Tombstones of one subject type, deleted at or after ``since``; read off the (subject_type, deleted_at, id)
    index in that order by the caller's cursor page."""
    tombstones = Tombstone.objects.filter(subject_type=subject_type)
    if since is not None:
        tombstones = tombstones.filter(deleted_at__gte=since)
    return tombstones
