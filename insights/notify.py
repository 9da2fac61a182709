"""Tell each rep when the nightly evaluation found new suggestions for their partners: one notification per rep and
day ("3 new suggestions for your partners"), linking to Today, where they are ranked — not one per insight, which
on a real book of partners would be dozens a night."""

from datetime import date, datetime

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import ngettext

from insights.models import Insight, Rule
from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create


def insights_notify_new(*, since: datetime, day: date) -> int:
    """Notify the assignee of every partner with insights created since ``since`` and still open (tier reviews are
    a manager's, not the rep's): one aggregate query, one insert. Returns how many notifications were created; a
    second call the same ``day`` creates none (``source_key`` ``insights:<day>``)."""
    counts = (
        Insight.objects.filter(
            state=Insight.State.OPEN, created_at__gte=since,
            partner__assigned_to__isnull=False, partner__assigned_to__is_active=True,
        )
        .exclude(rule__code=Rule.Code.TIER_REVIEW)
        .values_list("partner__assigned_to")
        .annotate(n=Count("id"))
    )
    link = reverse("today")
    items = [
        NotificationItem(
            recipient_id=recipient_id, event=Notification.Event.INSIGHTS, source_key=f"insights:{day.isoformat()}",
            title=ngettext("%(n)d new suggestion for your partners", "%(n)d new suggestions for your partners", n)
            % {"n": n},
            body="What to do next is ranked at the top of Today.", link=link,
        )
        for recipient_id, n in counts
    ]
    return notifications_create(items=items)
