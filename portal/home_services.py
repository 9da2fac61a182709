"""The portal home's one write: moving a partner user's "last visit" marks (``Membership.seen_at`` and
``previous_seen_at``), which decide where the home's "Since your last visit" list starts.

Decisions:
- A visit is a home page view at least ``VISIT_GAP`` after the last one: reloading the home, or coming back to it from
  another portal page a few minutes later, is the same visit, so the list does not empty itself under the user's eyes.
- The move is one conditional UPDATE (… WHERE seen_at IS NULL OR seen_at < now - gap): two tabs opening the home at
  once move it once. When the membership already read in the request says the last visit is recent, no statement runs.
"""

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from portal.models import Membership

VISIT_GAP = timedelta(minutes=30)


def membership_visit_home(*, member: Membership, now: datetime | None = None) -> Membership:
    """Record a home visit of ``member`` (its ``seen_at``/``previous_seen_at`` are updated in place when it moved).

    A new visit sets previous_seen_at = seen_at and seen_at = now; within ``VISIT_GAP`` of the last one nothing
    changes (and no query runs)."""
    now = now or timezone.now()
    if member.seen_at is not None and member.seen_at >= now - VISIT_GAP:
        return member
    moved = (
        Membership.objects.filter(pk=member.pk)
        .filter(Q(seen_at__isnull=True) | Q(seen_at__lt=now - VISIT_GAP))
        .update(previous_seen_at=F("seen_at"), seen_at=now)
    )
    if moved:
        member.previous_seen_at, member.seen_at = member.seen_at, now
    return member
