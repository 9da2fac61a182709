"""Scheduled calls and meetings as iCalendar (RFC 5545), written with the ``icalendar`` library: a user's private feed
(``calendar_feed_activities`` + ``calendar_build``) and one activity's ``.ics`` download.

Decisions:
- One VEVENT per scheduled activity, with a partner or a customer (its name in the summary, its page as the link).
- One VEVENT per scheduled activity. Its UID, ``activity-<id>@<host>``, never changes (host: ``settings.SITE_URL``'s,
  or "prm"), and SEQUENCE is ``Activity.sequence``, which activities.services raises with every change a subscriber
  must see, so Google, Outlook and Apple Calendar replace their copy instead of adding a second one.
- Times are written in UTC (``…Z``): every calendar app shows them in its own zone, and no VTIMEZONE is needed.
- Cancelled activities stay in the feed (STATUS:CANCELLED) for the feed's window, so subscribers remove them; done
  ones stay CONFIRMED (they happened).
- The feed covers ``FEED_PAST`` back to ``FEED_AHEAD`` ahead, at most ``FEED_LIMIT`` events: one query, whatever the
  user's number of partners.
"""

from collections.abc import Iterable
from datetime import UTC, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from activities.models import Activity
from activities.subjects import Subject
from leads.customer_selectors import customers_visible_to
from partners.selectors import partner_visible_to, user_sees_all_partners

PRODID = "-//PRM dashboard//Scheduled calls and meetings//EN"
DEFAULT_DURATION = timedelta(minutes=30)
FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=180)
FEED_LIMIT = 2000
CALENDAR_KINDS = (Activity.Kind.CALL, Activity.Kind.MEETING)
# What the feed and the download read of each activity (and of its partner and location): nothing else is loaded.
EVENT_FIELDS = (
    "kind", "mode", "status", "subject", "start_at", "duration_minutes", "place", "sequence", "updated_at",
    "partner_id", "partner__name", "customer_id", "customer__name", "location__label", "location__address",
)


def calendar_activities(*, user: AbstractBaseUser) -> QuerySet[Activity]:
    """The scheduled calls and meetings that can be in ``user``'s calendar: their own, on partners and customers they
    can still see (a reassigned partner's or customer's activities leave the feed)."""
    activities = Activity.objects.filter(owner_id=user.pk, mode=Activity.Mode.SCHEDULED, kind__in=CALENDAR_KINDS)
    if not user_sees_all_partners(user):  # (a manager sees every partner and customer: no need to join them all)
        activities = activities.filter(
            Q(partner__in=partner_visible_to(user).values("pk")) | Q(customer__in=customers_visible_to(user).values("pk"))
        )
    return activities.select_related("partner", "customer", "location").only(*EVENT_FIELDS)


def calendar_activity_of_subject(*, subject: Subject, pk: int) -> Activity | None:
    """The scheduled call/meeting ``pk`` of the partner or customer ``subject`` (already scoped to the user), whoever
    owns it, with what an event needs; None for anything else (one query)."""
    return (
        Activity.objects.filter(pk=pk, mode=Activity.Mode.SCHEDULED, kind__in=CALENDAR_KINDS,
                                **subject.service_kwargs())
        .select_related("partner", "customer", "location")
        .only(*EVENT_FIELDS)
        .first()
    )


def calendar_feed_activities(*, user: AbstractBaseUser, now=None) -> list[Activity]:
    """The feed's events: ``user``'s scheduled activities from ``FEED_PAST`` ago to ``FEED_AHEAD`` ahead, cancelled
    ones included, earliest first. Queries: the visibility check (see partners.selectors.user_sees_all_partners), then
    one for the rows."""
    now = now or timezone.now()
    rows = calendar_activities(user=user).filter(start_at__gte=now - FEED_PAST, start_at__lt=now + FEED_AHEAD)
    return list(rows.order_by("start_at", "id")[:FEED_LIMIT])


def calendar_build(activities: Iterable[Activity], *, base_url: str, name: str = "", method: str = "") -> bytes:
    """A VCALENDAR with one VEVENT per activity (partner and location preloaded), as bytes (text/calendar).

    ``base_url`` (e.g. "https://prm.example.com") makes the links to the partner and customer pages absolute; ``name`` titles a
    feed (X-WR-CALNAME); ``method`` is "PUBLISH" for a one-off download.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        # Ask subscribers to refresh hourly (Outlook reads the first, Apple and others the second).
        calendar.add("x-published-ttl", "PT1H")
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    host = uid_host()
    base_url = base_url.rstrip("/")
    for activity in activities:
        calendar.add_component(_event(activity, host=host, base_url=base_url))
    return calendar.to_ical()


def activity_summary(activity: Activity) -> str:
    """"Call with Acme", then the subject unless it only repeats the kind ("Call with Acme: Quarterly review", not
    "Call: Call: …"). Acme: the partner's or the customer's name."""
    kind = activity.get_kind_display()
    summary = f"{kind} with {activity.subject_name}"
    subject = (activity.subject or "").strip()
    prefix = f"{kind}:".lower()
    if subject.lower().startswith(prefix):
        subject = subject[len(prefix):].strip()
    if subject and subject.lower() != kind.lower():
        summary = f"{summary}: {subject}"
    return summary


def uid_host() -> str:
    return urlsplit(getattr(settings, "SITE_URL", "") or "").hostname or "prm"


def activity_uid(activity: Activity, host: str | None = None) -> str:
    return f"activity-{activity.pk}@{host or uid_host()}"


def _event(activity: Activity, *, host: str, base_url: str) -> Event:
    start = activity.start_at.astimezone(UTC)
    duration = timedelta(minutes=activity.duration_minutes) if activity.duration_minutes else DEFAULT_DURATION
    page = "partners:detail" if activity.partner_id is not None else "customers:detail"
    page_url = f"{base_url}{reverse(page, args=[activity.subject_id])}"
    event = Event()
    event.add("uid", activity_uid(activity, host))
    event.add("sequence", activity.sequence)
    event.add("dtstamp", (activity.updated_at or timezone.now()).astimezone(UTC))
    event.add("last-modified", (activity.updated_at or timezone.now()).astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + duration)
    event.add("summary", activity_summary(activity))
    where = _where(activity)
    if where:
        event.add("location", where)
    description = f"{activity.subject_name}: {page_url}"
    event.add("description", description)
    event.add("url", page_url)
    event.add("status", "CANCELLED" if activity.status == Activity.Status.CANCELLED else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _where(activity: Activity) -> str:
    if activity.place:
        return activity.place
    location = activity.location
    if location is None:
        return ""
    if location.label and location.address:
        return f"{location.label}, {location.address}"
    return location.address or location.label or ""
