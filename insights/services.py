"""Reps' reactions to an insight — accept, dismiss, snooze — the only writer of those fields of ``Insight``.

Each reaction is one conditional UPDATE (``WHERE state IN ('open', 'snoozed')``): a double click, or two people at once,
changes the row once; the second call changes nothing and says so (False / ValidationError for the accept-with-activity
flow, where a second activity must not be written).
"""

from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from activities import services as activity_services
from activities.models import Activity
from insights.models import Insight
from leads.models import Lead

REACTABLE = (Insight.State.OPEN, Insight.State.SNOOZED)
REASON_MAX = 200
SNOOZE_MAX_DAYS = 90
ALREADY_HANDLED = "Someone already acted on this suggestion: nothing was saved."


def _react(insight: Insight, *, by: AbstractBaseUser | None, states=REACTABLE, **fields) -> bool:
    """Set ``fields`` (and who/when) if the insight is still in one of ``states`` (open or snoozed); True if this call
    changed it."""
    now = timezone.now()
    fields.update(reacted_by=by, reacted_at=now, updated_at=now)
    changed = Insight.objects.filter(pk=insight.pk, state__in=states).update(**fields)
    if changed:
        for name, value in fields.items():
            setattr(insight, name, value)
    return bool(changed)


@transaction.atomic
def insight_accept(*, insight: Insight, by: AbstractBaseUser | None) -> bool:
    """Mark ``insight`` accepted. True if this call did (False: it was already accepted, dismissed or resolved)."""
    return _react(insight, by=by, state=Insight.State.ACCEPTED)


@transaction.atomic
def insight_dismiss(*, insight: Insight, by: AbstractBaseUser | None, reason: str) -> bool:
    """Dismiss ``insight`` for a ``reason`` (required, ≤ 200 characters): hidden, and its fingerprint suppressed for
    its rule's ``suppression_days`` (the evaluation finding it again does not show it before then)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you dismiss this suggestion."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason to {REASON_MAX} characters (it has {len(reason)})."})
    return _react(
        insight, by=by, state=Insight.State.DISMISSED, dismiss_reason=reason,
        suppressed_until=timezone.now() + timedelta(days=insight.rule.suppression_days),
    )


def snooze_range(today: date | None = None) -> tuple[date, date]:
    """The dates a snooze may end on: tomorrow … 90 days from today (in the active time zone)."""
    today = today or timezone.localdate()
    return today + timedelta(days=1), today + timedelta(days=SNOOZE_MAX_DAYS)


@transaction.atomic
def insight_snooze(*, insight: Insight, by: AbstractBaseUser | None, until: date) -> bool:
    """Hide ``insight`` until ``until`` (tomorrow … 90 days ahead): the evaluation reopens it on that day if its cause
    is still there. Only an open insight (a snoozed one is not shown, so a second snooze is a double click)."""
    first, last = snooze_range()
    if not isinstance(until, date) or not first <= until <= last:
        raise ValidationError({"until": f"Pick a day from tomorrow to {last:%d %b %Y}."})
    return _react(insight, by=by, states=(Insight.State.OPEN,), state=Insight.State.SNOOZED, snoozed_until=until)


def insight_lead(insight: Insight) -> Lead | None:
    """The lead a lead follow-up insight is about, if it is still the partner's: the partner's oldest untouched lead
    (subject ``leads``, its id in the evidence's ``lead_id``), or, for insights written before one-per-partner, the
    subject ``lead:<id>``. One query, none for other insights."""
    prefix, _, lead_id = insight.subject.partition(":")
    if prefix == "leads" and isinstance(insight.evidence, dict):
        lead_id = str(insight.evidence.get("lead_id", ""))
    elif prefix != "lead":
        return None
    if not lead_id.isdigit() or len(lead_id) > 18:
        return None
    return Lead.objects.filter(pk=int(lead_id), partner_id=insight.partner_id).first()


@transaction.atomic
def insight_accept_with_activity(
    *, insight: Insight, by: AbstractBaseUser | None, log: bool, engagement: dict, lead: Lead | None = None
) -> Activity:
    """Accept ``insight`` by doing what it suggests: schedule a call/meeting (``log=False``) or log one that happened
    (``log=True``) with ``engagement`` (the activity form's ``service_kwargs()``), through activities.services, and mark
    the insight accepted — both or neither, in one transaction. The activity's validation errors come first (the
    insight is untouched); then the insight is claimed by a conditional UPDATE: a second submit of the same form (or
    someone else's reaction in between) raises ValidationError and the second activity is rolled back."""
    service = activity_services.activity_log if log else activity_services.activity_schedule
    activity = service(partner=insight.partner, by=by, lead=lead, **engagement)
    if not _react(insight, by=by, state=Insight.State.ACCEPTED):
        raise ValidationError(ALREADY_HANDLED)
    return activity
