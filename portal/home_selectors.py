"""Reads of the portal home: what happened to the partner since the user's last visit, and what its tier means.

Scoped like every portal read: by the viewer's membership (``portal.selectors.portal_member``), never by an id taken
from the request.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from portal.models import DealProtection, Membership, PortalEvent

FIRST_VISIT_DAYS = 14  # a first visit shows the last two weeks
SINCE_LIMIT = 20  # rows of "Since your last visit" (the messages page has the whole feed)


@dataclass(frozen=True)
class SinceLastVisit:
    since: datetime
    first_visit: bool
    events: list[PortalEvent]
    more: bool  # there are older ones since ``since`` than the list shows


def since_last_visit(*, member: Membership, now: datetime | None = None, limit: int = SINCE_LIMIT) -> SinceLastVisit:
    """The partner's feed events newer than ``member.previous_seen_at`` (the visit before this one; a first visit:
    the last ``FIRST_VISIT_DAYS`` days), newest first, without what the user did themself. One query (index
    ``portal_event_feed_idx``: partner, -at)."""
    now = now or timezone.now()
    first_visit = member.previous_seen_at is None
    since = now - timedelta(days=FIRST_VISIT_DAYS) if first_visit else member.previous_seen_at
    rows = list(
        PortalEvent.objects.filter(partner_id=member.partner_id, at__gt=since)
        .exclude(actor_id=member.user_id)
        .order_by("-at", "-id")
        .only("kind", "title", "link", "at")[: limit + 1]
    )
    return SinceLastVisit(since=since, first_visit=first_visit, events=rows[:limit], more=len(rows) > limit)


def deal_protection_days(*, tier_id: int | None) -> tuple[int, int]:
    """(days an approved registration is protected, days of the one extension) for a partner of ``tier_id``: the
    tier's DealProtection row, else the DEAL_PROTECTION_DAYS setting and its model's default extension. One query
    (none without a tier)."""
    default = (settings.DEAL_PROTECTION_DAYS, DealProtection._meta.get_field("extension_days").default)
    if tier_id is None:
        return default
    row = DealProtection.objects.filter(tier_id=tier_id).values_list("days", "extension_days").first()
    return row or default
