"""Reads of activities. Callers pass a partner they already scoped (``partners.selectors.partner_get_for_user``)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone

from activities.models import Activity
from partners.models import Partner
from partners.selectors import PAGE_LIST_LIMIT, capped

# The columns the partner page shows (the rest of the rows, and the owners' password hashes and flags, are not read).
PAGE_FIELDS = (
    "partner_id", "kind", "mode", "status", "subject", "start_at", "duration_minutes", "place", "outcome",
    "location__label", "location__address", "location__latitude", "location__longitude", "location__partner_id",
    "owner__username", "owner__first_name", "owner__last_name",
)


def partner_activities(*, partner: Partner, limit: int = PAGE_LIST_LIMIT) -> dict:
    """The partner page's activity lists in three queries: planned engagements (with location; ``is_past_due``
    set), planned reminders, and past activities (done/cancelled, with location and owner). Each is capped at
    ``limit`` rows; ``<name>_more`` says when there are more."""
    activities = Activity.objects.filter(partner=partner).select_related("location", "owner").only(*PAGE_FIELDS)
    planned = activities.filter(status=Activity.Status.PLANNED)
    upcoming, upcoming_more = capped(
        planned.filter(mode__in=Activity.ENGAGEMENT_MODES).order_by("start_at", "id"), limit
    )
    reminders, reminders_more = capped(planned.filter(mode=Activity.Mode.REMINDER).order_by("start_at", "id"), limit)
    now = timezone.now()
    for activity in upcoming + reminders:
        activity.is_past_due = activity.start_at < now
    past, past_more = capped(activities.exclude(status=Activity.Status.PLANNED).order_by("-start_at", "-id"), limit)
    return {
        "upcoming": upcoming,
        "upcoming_more": upcoming_more,
        "reminders": reminders,
        "reminders_more": reminders_more,
        "past": past,
        "past_more": past_more,
    }


def activity_get_for_partner(*, partner: Partner, pk: int) -> Activity:
    """The activity ``pk`` of ``partner`` (with location), or Http404 — also when it belongs to another partner."""
    return get_object_or_404(Activity.objects.select_related("location"), pk=pk, partner=partner)
