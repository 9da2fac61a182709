"""Scheduling, logging and completing activities.

Every change here also refreshes the partner's denormalised ``last_engaged_at`` / ``next_engagement_at`` /
``engagement_due_at`` in the same transaction, with the partner row locked so concurrent changes serialise.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from activities.models import Activity
from partners.models import Partner, Tier

SCHEDULABLE_KINDS = (Activity.Kind.CALL, Activity.Kind.MEETING)


def partner_engagement_refresh(partner):
    """Recompute one partner's last/next engagement and due date from its activities (2 queries)."""
    engagements = Activity.objects.filter(partner_id=partner.pk, mode__in=Activity.ENGAGEMENT_MODES)
    agg = engagements.aggregate(
        last=Max("start_at", filter=Q(status=Activity.Status.DONE)),
        next=Min("start_at", filter=Q(status=Activity.Status.PLANNED)),
    )
    partner.last_engaged_at = agg["last"]
    partner.next_engagement_at = agg["next"]
    partner.engagement_due_at = _due_at(partner)
    Partner.objects.filter(pk=partner.pk).update(
        last_engaged_at=partner.last_engaged_at,
        next_engagement_at=partner.next_engagement_at,
        engagement_due_at=partner.engagement_due_at,
    )


def _due_at(partner):
    if partner.tier_id is None:
        return None
    days = Tier.objects.values_list("engage_every_days", flat=True).get(pk=partner.tier_id)
    return (partner.last_engaged_at or partner.created_at) + timedelta(days=days)


def partners_engagement_refresh_all(partner_ids=None):
    """Set-based refresh of last/next/due for many partners (all, or ``partner_ids``): one UPDATE plus one per tier.

    Used after bulk loads (seed_demo) and when an admin changes a tier's engagement frequency.
    """
    partners = Partner.objects.all() if partner_ids is None else Partner.objects.filter(pk__in=partner_ids)
    engagements = Activity.objects.filter(partner=OuterRef("pk"), mode__in=Activity.ENGAGEMENT_MODES)
    last = engagements.filter(status=Activity.Status.DONE).order_by("-start_at").values("start_at")[:1]
    upcoming = engagements.filter(status=Activity.Status.PLANNED).order_by("start_at").values("start_at")[:1]
    partners.update(last_engaged_at=Subquery(last), next_engagement_at=Subquery(upcoming))
    tier_due_refresh(partners)


def tier_due_refresh(partners=None):
    """Recompute ``engagement_due_at`` from each tier's frequency, one UPDATE per tier."""
    partners = Partner.objects.all() if partners is None else partners
    for tier in Tier.objects.all():
        partners.filter(tier=tier).update(
            engagement_due_at=Coalesce("last_engaged_at", "created_at") + timedelta(days=tier.engage_every_days)
        )
    partners.filter(tier__isnull=True).update(engagement_due_at=None)


def _lock_partner(partner):
    """Lock the partner row for the rest of the transaction (a no-op on SQLite, which locks the database)."""
    return Partner.objects.select_for_update().get(pk=partner.pk)


def _save_and_refresh(activity):
    partner = _lock_partner(activity.partner)
    activity.full_clean()
    activity.save()
    partner_engagement_refresh(partner)
    return activity


@transaction.atomic
def activity_schedule(
    *, partner, by, kind, start_at, duration_minutes=None, location=None, place="", subject="", lead=None
):
    """Schedule a call or a meeting with a partner."""
    if kind not in SCHEDULABLE_KINDS:
        raise ValidationError({"kind": "Only a call or a meeting can be scheduled."})
    _check_location(partner, location)
    activity = Activity(
        partner=partner,
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
    return _save_and_refresh(activity)


@transaction.atomic
def activity_remind(*, partner, by, start_at, subject, lead=None):
    """Schedule a reminder (a task for the rep) on a partner; it does not count as an engagement."""
    activity = Activity(
        partner=partner,
        lead=lead,
        kind=Activity.Kind.TASK,
        mode=Activity.Mode.REMINDER,
        status=Activity.Status.PLANNED,
        start_at=start_at,
        subject=subject,
        owner=by,
    )
    return _save_and_refresh(activity)


@transaction.atomic
def activity_log(
    *, partner, by, kind, start_at, outcome="", duration_minutes=None, location=None, place="", subject="", lead=None
):
    """Log an engagement that already happened."""
    now = timezone.now()
    if start_at > now:
        raise ValidationError({"start_at": "A logged activity must have happened already; schedule future ones."})
    _check_location(partner, location)
    activity = Activity(
        partner=partner,
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
    )
    return _save_and_refresh(activity)


@transaction.atomic
def activity_complete(*, activity, by, outcome=""):
    """Mark a planned activity done. Completing one early moves its time to now (it happened now)."""
    activity = _claim_planned(activity)
    now = timezone.now()
    activity.status = Activity.Status.DONE
    activity.outcome = outcome
    activity.completed_at = now
    if activity.start_at > now:
        activity.start_at = now
    return _save_and_refresh(activity)


@transaction.atomic
def activity_cancel(*, activity, by, outcome=""):
    """Cancel a planned activity."""
    activity = _claim_planned(activity)
    activity.status = Activity.Status.CANCELLED
    if outcome:
        activity.outcome = outcome
    return _save_and_refresh(activity)


def _claim_planned(activity):
    locked = Activity.objects.select_for_update().select_related("partner").get(pk=activity.pk)
    if locked.status != Activity.Status.PLANNED:
        raise ValidationError(f"This activity is already {locked.get_status_display().lower()}.")
    return locked


def _check_location(partner, location):
    if location is not None and location.partner_id != partner.pk:
        raise ValidationError({"location": "That location belongs to another partner."})
