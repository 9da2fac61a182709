"""Lead workflow: create, edit, move between stages, convert (its Customer is created by
``leads.customer_services.customer_create_from_lead``, in the same transaction) or lose with a reason. Each move is a
history row. The only code that writes Lead and LeadStageChange (customers: ``leads.customer_services``)."""

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leads.customer_services import customer_create_from_lead
from leads.models import Customer, Lead, LeadStageChange
from outbox.services import event_emit
from partners.models import Partner

User = AbstractBaseUser
# Fields of a lead a person may edit (stage and the closing fields have their own services).
EDITABLE_FIELDS = ("name", "company", "email", "phone", "partner", "assigned_to", "expected_value")
# A lead as webhook receivers see it (ids, names, stage, values, dates; not the person's email or phone).
_PAYLOAD_FIELDS = ("id", "name", "company", "partner_id", "assigned_to_id", "stage", "expected_value", "value",
                   "created_at", "converted_at", "lost_at", "lost_reason")


def _emit(topic: str, lead: Lead, **extra: object) -> None:
    """lead.created / lead.stage_changed / lead.converted, in the caller's transaction (outbox, issue 16)."""
    event_emit(topic=topic, subject_type="lead", subject_id=lead.pk,
               payload={**{name: getattr(lead, name) for name in _PAYLOAD_FIELDS}, **extra})


@transaction.atomic
def lead_create(
    *,
    by: User | None,
    name: str,
    partner: Partner | None = None,
    assigned_to: User | None = None,
    expected_value: Decimal | None = None,
    created_at: datetime | None = None,
    company: str = "",
    email: str = "",
    phone: str = "",
) -> Lead:
    """Create a new lead (assigned to ``by`` unless said otherwise) with the first row of its stage history."""
    lead = Lead(
        name=name,
        company=company,
        email=email,
        phone=phone,
        partner=partner,
        assigned_to=assigned_to or by,
        expected_value=expected_value,
        created_at=created_at or timezone.now(),
    )
    lead.last_touched_at = lead.created_at
    lead.full_clean()
    lead.save()
    LeadStageChange.objects.create(lead=lead, from_stage="", to_stage=lead.stage, changed_by=by, changed_at=lead.created_at)
    _emit("lead.created", lead)
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, by: User | None, **fields: object) -> list[str]:
    """Change the editable fields of a lead (EDITABLE_FIELDS); returns the names of the fields that changed."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected lead fields: {sorted(unknown)}")
    changed = [name for name, value in fields.items() if getattr(lead, name) != value]
    for name in changed:
        setattr(lead, name, fields[name])
    if changed:
        lead.full_clean()
        lead.save(update_fields=[*changed, "updated_at"])
    return changed


@transaction.atomic
def lead_move(*, lead: Lead, to_stage: str, by: User | None) -> Lead:
    """Move an open lead to another open stage (use lead_convert / lead_lose to close it). A closed lead, or the stage
    it is at already, is a ValidationError and nothing is written."""
    if to_stage not in Lead.OPEN_STAGES:
        raise ValidationError({"stage": "Use convert or lose to close a lead."})
    lead = _claim_open(lead, doing="moved")
    if lead.stage == to_stage:
        raise ValidationError({"stage": f"The lead is already {lead.get_stage_display().lower()}."})
    from_stage = lead.stage
    _move(lead, to_stage, by, timezone.now())
    _emit("lead.stage_changed", lead, from_stage=from_stage)
    return lead


@transaction.atomic
def lead_convert(
    *, lead: Lead, by: User | None, value: Decimal | None = None, when: datetime | None = None
) -> Customer:
    """Win the lead: books ``value`` (default: the expected value) and creates its Customer.

    Once: the lead row is locked first and must still be open, so a second submit (or a second worker) waits for the
    first, then finds the lead won and gets a ValidationError — one customer, whatever the timing (the customer's
    one-to-one on the lead is the database's guarantee of the same). A lost lead cannot be converted."""
    if value is not None:
        value = _booked_value(value)
    lead = _claim_open(lead, doing="converted")
    when = when or timezone.now()
    lead.value = value if value is not None else lead.expected_value
    lead.converted_at = when
    from_stage = lead.stage
    _move(lead, Lead.Stage.WON, by, when, extra_fields=["value", "converted_at"])
    customer = customer_create_from_lead(lead=lead, when=when)  # leads.customer_services owns Customer's writes
    _emit("lead.converted", lead, from_stage=from_stage, customer_id=customer.pk)
    return customer


LOST_REASON_MAX = Lead._meta.get_field("lost_reason").max_length


@transaction.atomic
def lead_lose(*, lead: Lead, by: User | None, reason: str, when: datetime | None = None) -> Lead:
    """Close the lead as lost, saying why (``reason``: required, at most 300 characters, kept in ``lost_reason``)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": "Say why the lead was lost."})
    if len(reason) > LOST_REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason to {LOST_REASON_MAX} characters (it has {len(reason)})."})
    lead = _claim_open(lead, doing="marked lost")
    when = when or timezone.now()
    lead.lost_at = when
    lead.lost_reason = reason
    from_stage = lead.stage
    _move(lead, Lead.Stage.LOST, by, when, extra_fields=["lost_at", "lost_reason"])
    _emit("lead.stage_changed", lead, from_stage=from_stage)
    return lead


def _booked_value(value: Decimal) -> Decimal:
    """A converted lead's value, checked like the model field (≥ 0, at most 12 digits before the point, 2 after)."""
    try:
        value = Lead._meta.get_field("value").clean(value, None)
    except ValidationError as error:
        raise ValidationError({"value": error.messages}) from None
    if value < 0:
        raise ValidationError({"value": "The value can't be negative."})
    return value


def _claim_open(lead: Lead, *, doing: str) -> Lead:
    """The lead's row, locked for this transaction, if it is still open; else a ValidationError saying it is closed
    ("This lead is already won: it can't be converted.")."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if locked.stage not in Lead.OPEN_STAGES:
        raise ValidationError(f"This lead is already {locked.get_stage_display().lower()}: it can't be {doing}.")
    return locked


def _move(lead, to_stage, by, when, extra_fields=()):
    from_stage = lead.stage
    lead.stage = to_stage
    lead.last_touched_at = max(filter(None, (lead.last_touched_at, when)))
    lead.save(update_fields=["stage", *extra_fields, "last_touched_at", "updated_at"])
    LeadStageChange.objects.create(lead=lead, from_stage=from_stage, to_stage=to_stage, changed_by=by, changed_at=when)
    return lead


def lead_touch(*, lead_id: int, at: datetime) -> None:
    """Record that the lead was touched at ``at`` (an activity about it was created or done): its ``last_touched_at``
    only moves forward, in one UPDATE (called by ``activities.services`` in the activity's transaction)."""
    Lead.objects.filter(pk=lead_id).filter(Q(last_touched_at__isnull=True) | Q(last_touched_at__lt=at)).update(
        last_touched_at=at
    )
