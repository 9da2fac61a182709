"""Scheduling, logging, completing and cancelling activities: the only code that writes Activity.

An activity is with a partner or a customer (``partner=`` or ``customer=``, exactly one; activities/subjects.py).
Every change here also refreshes that partner's or customer's denormalised ``last_engaged_at`` /
``next_engagement_at`` / ``engagement_due_at`` in the same transaction, with its row locked so concurrent changes
serialise: this app computes the dates from its rows, ``partners.services`` / ``leads.customer_services`` store them.

A customer's activity has no ``location`` (that column points at partner locations): a customer location picked in
the form is stored as the activity's ``place`` (its address), which the pages and calendars show and navigate to.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from activities.models import Activity
from activities.notify import activities_notify_due, activities_send_digests  # noqa: F401 (the notifying services)
from leads.customer_services import customer_engagement_set, customer_lock, customers_engagement_set_all
from leads.models import Customer, CustomerLocation, Lead
from leads.services import lead_touch
from outbox.services import event_emit
from partners.models import Location, Partner
from partners.services import partner_engagement_set, partner_lock, partners_engagement_set_all

SCHEDULABLE_KINDS = (Activity.Kind.CALL, Activity.Kind.MEETING)
User = AbstractBaseUser

# An activity as webhook receivers see it (ids, kind, state, times; not the free-text outcome).
_PAYLOAD_FIELDS = ("id", "partner_id", "customer_id", "lead_id", "kind", "mode", "status", "subject", "start_at",
                   "duration_minutes", "owner_id", "completed_at", "channel")


def _emit(topic: str, activity: Activity) -> Activity:
    """activity.scheduled / .rescheduled / .done / .cancelled, in the caller's transaction (outbox, issue 16)."""
    event_emit(topic=topic, subject_type="activity", subject_id=activity.pk,
               payload={name: getattr(activity, name) for name in _PAYLOAD_FIELDS})
    return activity


def partner_engagement_refresh(partner: Partner) -> None:
    """Recompute one partner's last/next engagement (and so its due date) from its activities (3 queries)."""
    engagements = Activity.objects.filter(partner_id=partner.pk, mode__in=Activity.ENGAGEMENT_MODES)
    agg = engagements.aggregate(
        last=Max("start_at", filter=Q(status=Activity.Status.DONE)),
        next=Min("start_at", filter=Q(status=Activity.Status.PLANNED)),
    )
    partner_engagement_set(partner=partner, last_engaged_at=agg["last"], next_engagement_at=agg["next"])


def partners_engagement_refresh_all(partner_ids: Iterable[int] | None = None) -> None:
    """Set-based refresh of last/next/due for many partners (all, or ``partner_ids``): one UPDATE plus one per tier.

    Used after bulk loads (seed_demo).
    """
    engagements = Activity.objects.filter(partner=OuterRef("pk"), mode__in=Activity.ENGAGEMENT_MODES)
    last = engagements.filter(status=Activity.Status.DONE).order_by("-start_at").values("start_at")[:1]
    upcoming = engagements.filter(status=Activity.Status.PLANNED).order_by("start_at").values("start_at")[:1]
    partners_engagement_set_all(
        last_engaged_at=Subquery(last), next_engagement_at=Subquery(upcoming), partner_ids=partner_ids
    )


def customer_engagement_refresh(customer: Customer) -> None:
    """Recompute one customer's last/next engagement (and so its due date) from its activities (3 queries)."""
    engagements = Activity.objects.filter(customer_id=customer.pk, mode__in=Activity.ENGAGEMENT_MODES)
    agg = engagements.aggregate(
        last=Max("start_at", filter=Q(status=Activity.Status.DONE)),
        next=Min("start_at", filter=Q(status=Activity.Status.PLANNED)),
    )
    customer_engagement_set(customer=customer, last_engaged_at=agg["last"], next_engagement_at=agg["next"])


def customers_engagement_refresh_all(customer_ids: Iterable[int] | None = None) -> None:
    """Set-based refresh of last/next/due for many customers (all, or ``customer_ids``), as for partners."""
    engagements = Activity.objects.filter(customer=OuterRef("pk"), mode__in=Activity.ENGAGEMENT_MODES)
    last = engagements.filter(status=Activity.Status.DONE).order_by("-start_at").values("start_at")[:1]
    upcoming = engagements.filter(status=Activity.Status.PLANNED).order_by("start_at").values("start_at")[:1]
    customers_engagement_set_all(
        last_engaged_at=Subquery(last), next_engagement_at=Subquery(upcoming), customer_ids=customer_ids
    )


def _save_and_refresh(activity: Activity, *, bump_sequence: bool = False) -> Activity:
    """Validate, save and refresh the partner's or customer's engagement dates (its row locked first).
    ``bump_sequence``: a change calendar subscribers must see (time, subject, place, cancelled, done): the iCalendar
    SEQUENCE goes up by one in the same UPDATE."""
    if activity.partner_id is not None:
        subject = partner_lock(partner_id=activity.partner_id)
    else:
        subject = customer_lock(customer_id=activity.customer_id)
    activity.full_clean()
    if bump_sequence and activity.pk is not None:
        sequence = activity.sequence
        activity.sequence = F("sequence") + 1
        activity.save()
        activity.sequence = sequence + 1  # the row is locked (select_for_update): nobody else moved it meanwhile
    else:
        activity.save()
    if activity.partner_id is not None:
        partner_engagement_refresh(subject)
    else:
        customer_engagement_refresh(subject)
    if activity.lead_id is not None:  # an activity about a lead touches it (created, then done)
        lead_touch(lead_id=activity.lead_id, at=max(filter(None, (activity.created_at, activity.completed_at))))
    return activity


@transaction.atomic
def activity_schedule(
    *,
    partner: Partner | None = None,
    customer: Customer | None = None,
    by: User | None,
    kind: str,
    start_at: datetime,
    duration_minutes: int | None = None,
    location: Location | CustomerLocation | None = None,
    place: str = "",
    subject: str = "",
    lead: Lead | None = None,
) -> Activity:
    """Schedule a call or a meeting with a partner or a customer."""
    _check_subject(partner, customer)
    if kind not in SCHEDULABLE_KINDS:
        raise ValidationError({"kind": "Only a call or a meeting can be scheduled."})
    location, place = _where(partner, customer, location, place)
    activity = Activity(
        partner=partner,
        customer=customer,
        lead=lead,
        kind=kind,
        mode=Activity.Mode.SCHEDULED,
        status=Activity.Status.PLANNED,
        start_at=start_at,
        duration_minutes=duration_minutes,
        location=location,
        place=place,
        subject=subject,
        owner=by,
    )
    return _emit("activity.scheduled", _save_and_refresh(activity))


@transaction.atomic
def activity_remind(
    *,
    partner: Partner | None = None,
    customer: Customer | None = None,
    by: User | None,
    start_at: datetime,
    subject: str,
    lead: Lead | None = None,
) -> Activity:
    """Schedule a reminder (a task for the rep) on a partner or a customer; it does not count as an engagement."""
    _check_subject(partner, customer)
    activity = Activity(
        partner=partner,
        customer=customer,
        lead=lead,
        kind=Activity.Kind.TASK,
        mode=Activity.Mode.REMINDER,
        status=Activity.Status.PLANNED,
        start_at=start_at,
        subject=subject,
        owner=by,
    )
    return _emit("activity.scheduled", _save_and_refresh(activity))


@transaction.atomic
def activity_log(
    *,
    partner: Partner | None = None,
    customer: Customer | None = None,
    by: User | None,
    kind: str,
    start_at: datetime,
    outcome: str = "",
    duration_minutes: int | None = None,
    location: Location | CustomerLocation | None = None,
    place: str = "",
    subject: str = "",
    lead: Lead | None = None,
    channel: str = "",
) -> Activity:
    """Log an engagement that already happened; ``channel``: how (WhatsApp, WeChat, SMS, call, email), if known."""
    _check_subject(partner, customer)
    now = timezone.now()
    if start_at > now:
        raise ValidationError({"start_at": "A logged activity must have happened already; schedule future ones."})
    location, place = _where(partner, customer, location, place)
    activity = Activity(
        partner=partner,
        customer=customer,
        lead=lead,
        kind=kind,
        mode=Activity.Mode.LOGGED,
        status=Activity.Status.DONE,
        start_at=start_at,
        duration_minutes=duration_minutes,
        location=location,
        place=place,
        subject=subject,
        outcome=outcome,
        owner=by,
        completed_at=now,
        channel=channel,
    )
    return _emit("activity.done", _save_and_refresh(activity))


@transaction.atomic
def activity_complete(*, activity: Activity, by: User | None, outcome: str = "") -> Activity:
    """Mark a planned activity done, recording who did. Completing one early moves its time to now (it happened
    now)."""
    activity = _claim_planned(activity)
    now = timezone.now()
    activity.closed_by = by
    activity.status = Activity.Status.DONE
    activity.outcome = outcome
    activity.completed_at = now
    if activity.start_at > now:
        activity.start_at = now
    return _emit("activity.done", _save_and_refresh(activity, bump_sequence=True))


@transaction.atomic
def activity_cancel(*, activity: Activity, by: User | None, outcome: str = "") -> Activity:
    """Cancel a planned activity, recording who did."""
    activity = _claim_planned(activity)
    activity.closed_by = by
    activity.status = Activity.Status.CANCELLED
    if outcome:
        activity.outcome = outcome
    return _emit("activity.cancelled", _save_and_refresh(activity, bump_sequence=True))


# A time typed a moment ago still counts as "now" when rescheduling (as in activities.forms).
RESCHEDULE_GRACE = timedelta(minutes=5)


@transaction.atomic
def activity_reschedule(
    *,
    activity: Activity,
    by: User | None,
    start_at: datetime,
    duration_minutes: int | None,
    subject: str,
    place: str,
    location: Location | CustomerLocation | None,
) -> Activity:
    """Edit a planned call/meeting or reminder: its time, duration, subject and place (the kind stays).

    The arguments are the activity's new state (a reminder has no duration or place: pass None / "" / None). Only
    planned activities change (done/cancelled: ValidationError saying so); the row is locked first. A changed time
    must not be in the past (an overdue one may keep its time while its subject is fixed). When anything changed —
    all these fields are in the calendar event — SEQUENCE goes up by one so subscribed calendars replace their copy;
    a changed time clears ``notified_at`` so the new time notifies again (the notification's key includes the time).
    An edit that changes nothing writes nothing. The partner's (or customer's) next engagement follows, in the same
    transaction.
    ``by`` (who edits) is not stored: Activity keeps its owner.
    """
    activity = _claim_planned(activity)
    place = (place or "").strip()
    subject = (subject or "").strip()
    if activity.mode == Activity.Mode.REMINDER:
        if duration_minutes is not None:
            raise ValidationError({"duration_minutes": "A reminder has no duration."})
        if location is not None or place:
            raise ValidationError({"place": "A reminder has no place."})
        if not subject:
            raise ValidationError({"subject": "Say what to be reminded of."})
    elif activity.mode != Activity.Mode.SCHEDULED:
        raise ValidationError("Only a scheduled call or meeting, or a reminder, can be rescheduled.")
    if duration_minutes is not None and duration_minutes < 1:
        raise ValidationError({"duration_minutes": "The duration must be at least one minute."})
    if activity.mode == Activity.Mode.SCHEDULED:
        location, place = _where(activity.partner, activity.customer, location, place)
    moved = start_at != activity.start_at
    if moved and start_at < timezone.now() - RESCHEDULE_GRACE:
        raise ValidationError({"start_at": "That time has passed: pick a future time."})
    new = {
        "start_at": start_at,
        "duration_minutes": duration_minutes,
        "subject": subject,
        "place": place,
        "location_id": location.pk if location is not None else None,
    }
    if all(getattr(activity, field) == value for field, value in new.items()):
        return activity  # nothing a subscriber (or anyone) would see changed: no write, no new SEQUENCE
    for field, value in new.items():
        setattr(activity, field, value)
    activity.location = location
    if moved:
        activity.notified_at = None
    return _emit("activity.rescheduled", _save_and_refresh(activity, bump_sequence=True))


def _claim_planned(activity: Activity) -> Activity:
    locked = Activity.objects.select_for_update(of=("self",)).select_related("partner", "customer").get(pk=activity.pk)
    if locked.status != Activity.Status.PLANNED:
        raise ValidationError(f"This activity is already {locked.get_status_display().lower()}.")
    return locked


def _check_subject(partner: Partner | None, customer: Customer | None) -> None:
    if (partner is None) == (customer is None):
        raise TypeError("an activity is with a partner or a customer: pass exactly one")


def _where(
    partner: Partner | None, customer: Customer | None, location: Location | CustomerLocation | None, place: str
) -> tuple[Location | None, str]:
    """The activity's ``location`` and ``place``: a partner's location is kept as the link; a customer's location is
    stored as its address in ``place``. A location of anyone else is a ValidationError on "location"."""
    if location is None:
        return None, place
    if partner is not None:
        if not isinstance(location, Location) or location.partner_id != partner.pk:
            raise ValidationError({"location": "That location belongs to another partner."})
        return location, place
    if not isinstance(location, CustomerLocation) or location.customer_id != customer.pk:
        raise ValidationError({"location": "That location belongs to another customer."})
    if place:
        raise ValidationError({"place": "Choose one of the customer's locations or type a place, not both."})
    return None, location.address[:255]
