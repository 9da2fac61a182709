"""Lead workflow: create, edit, move between stages, convert (its Customer is created by
``leads.customer_services.customer_create_from_lead``, in the same transaction) or lose with a reason. Each move is a
history row. The only code that writes Lead and LeadStageChange (customers: ``leads.customer_services``)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leads.customer_services import customer_create_from_lead
from leads.models import Customer, Lead, LeadStageChange
from outbox.services import EventSpec, event_emit, events_emit
from partners.models import Partner
from prm import pg

User = AbstractBaseUser
# Fields of a lead a person may edit (stage and the closing fields have their own services).
EDITABLE_FIELDS = ("name", "company", "email", "phone", "partner", "assigned_to", "expected_value")
# A lead as webhook receivers see it (ids, names, stage, values, dates; not the person's email or phone).
_PAYLOAD_FIELDS = ("id", "name", "company", "partner_id", "assigned_to_id", "stage", "expected_value", "value",
                   "created_at", "converted_at", "lost_at", "lost_reason")


def _emit(topic: str, lead: Lead, **extra: object) -> None:
    """lead.created / lead.updated / lead.stage_changed / lead.converted, in the caller's transaction (outbox)."""
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
        _emit("lead.updated", lead, changed=changed)  # webhooks, and the CRM push of the edited fields
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


# --- CRM sync (integrations) --------------------------------------------------------------------------------------

SYNC_FIELDS = ("name", "company", "email", "phone", "stage")


@dataclass
class SyncUpsertResult:
    """The same shape as ``partners.services.SyncUpsertResult``: caller's key → lead id for the rows written (or left
    unchanged), the keys created, and caller's key → "field: message" for the rows refused."""

    ids: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@transaction.atomic
def leads_sync_upsert(
    *, rows: dict[str, dict[str, object]], existing: dict[str, int], by: User | None = None,
    reason: str = "Closed in the CRM",
) -> SyncUpsertResult:
    """Create or update many leads at once (a page of CRM records), modelled on ``partners_sync_upsert``: ``rows``
    maps the caller's key to fields among SYNC_FIELDS; keys in ``existing`` update that lead id, the others create one
    (stage "new" unless given). Each row is validated like a form save; a refused row is reported in ``errors`` and
    the others are written.

    Stage: an open lead may go to any stage. To won: ``converted_at`` now, the expected value booked, its Customer
    created (``customer_create_from_lead``: the one per-row write — conversions are few in a page). To lost:
    ``lost_at`` now and ``reason``. A closed lead is not moved again (an error on "stage"). Every stage set is a history
    row and an outbox event as the other lead services emit them: lead.created for a new lead, lead.converted /
    lead.stage_changed (with ``from_stage``) for a move, lead.updated (with ``changed``) for other edits. Queries: 1 to
    load, 1 INSERT of the new leads, 1 UPDATE per 500 changed, 1 INSERT of history rows, 1 INSERT of events, plus 2 per
    lead won.
    """
    result = SyncUpsertResult()
    for fields in rows.values():
        unknown = set(fields) - set(SYNC_FIELDS)
        if unknown:
            raise TypeError(f"unexpected lead fields: {sorted(unknown)}")
    now = timezone.now()
    reason = " ".join((reason or "").split())[:LOST_REASON_MAX]
    current = Lead.objects.in_bulk([pk for key, pk in existing.items() if key in rows])
    creates: list[tuple[str, Lead]] = []
    updates: list[tuple[str, Lead, list[str], str | None]] = []
    for key, fields in rows.items():
        pk = existing.get(key)
        lead = current.get(pk) if pk is not None else None
        if pk is not None and lead is None:
            result.errors[key] = "lead: the linked lead no longer exists"
            continue
        if lead is None:
            lead = Lead(**fields, assigned_to=by, created_at=now, last_touched_at=now)
            changed, from_stage = list(fields), ""
        else:
            changed = [name for name, value in fields.items() if getattr(lead, name) != value]
            from_stage = lead.stage if "stage" in changed else None
            if from_stage is not None and from_stage not in Lead.OPEN_STAGES:
                result.errors[key] = (f"stage: the lead is {lead.get_stage_display().lower()} in PRM; it can't be "
                                      f"moved to {fields['stage']!r}")
                continue
        for name in changed:
            setattr(lead, name, fields[name])
        if from_stage is not None:
            lead.last_touched_at = max(filter(None, (lead.last_touched_at, now)))
            changed.append("last_touched_at")
            if lead.stage == Lead.Stage.WON:
                lead.converted_at, lead.value = now, lead.expected_value
                changed += ["converted_at", "value"]
            elif lead.stage == Lead.Stage.LOST:
                lead.lost_at, lead.lost_reason = now, reason
                changed += ["lost_at", "lost_reason"]
        try:
            lead.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            result.errors[key] = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
            continue
        if lead.pk is None:
            creates.append((key, lead))
        elif changed:
            lead.updated_at = now
            updates.append((key, lead, changed, from_stage))
        else:
            result.ids[key] = lead.pk
    pg.insert_objects([lead for _key, lead in creates])  # bulk_create's work, without its per-value Python cost
    for key, lead in creates:
        result.ids[key] = lead.pk
        result.created.append(key)
    names = sorted({name for _key, _lead, changed, _from in updates for name in changed} | {"updated_at"})
    Lead.objects.bulk_update([lead for _key, lead, _changed, _from in updates], names, batch_size=500)
    moved = [(lead, "") for _key, lead in creates] + [
        (lead, from_stage) for _key, lead, _changed, from_stage in updates if from_stage is not None]
    for key, lead, _changed, _from in updates:
        result.ids[key] = lead.pk
    pg.insert_values(LeadStageChange, ["lead_id", "from_stage", "to_stage", "changed_by_id", "changed_at"],
                     [(lead.pk, from_stage, lead.stage, by.pk if by else None, now) for lead, from_stage in moved])
    events = [EventSpec(topic="lead.created", subject_type="lead", subject_id=lead.pk, payload=_payload(lead))
              for lead, from_stage in moved if from_stage == ""]
    for lead, from_stage in moved:
        if from_stage == "":
            extra = {}
            topic = None
        elif lead.stage == Lead.Stage.WON:
            topic, extra = "lead.converted", {"from_stage": from_stage}
        else:
            topic, extra = "lead.stage_changed", {"from_stage": from_stage}
        if lead.stage == Lead.Stage.WON:
            customer = customer_create_from_lead(lead=lead, when=now)
            extra["customer_id"] = customer.pk
        if topic:
            events.append(EventSpec(topic=topic, subject_type="lead", subject_id=lead.pk,
                                    payload={**_payload(lead), **extra}))
    events += [EventSpec(topic="lead.updated", subject_type="lead", subject_id=lead.pk,
                         payload={**_payload(lead), "changed": sorted(changed)})
               for _key, lead, changed, from_stage in updates if from_stage is None]
    events_emit(events=events)
    return result


def leads_sync_lose(*, lead_ids: list[int], reason: str, by: User | None = None) -> int:
    """Set-based: close these leads as lost with ``reason`` (a lead deleted in the CRM: its history is kept, never
    deleted); closed ones are left as they are. Returns how many were closed."""
    open_ids = list(Lead.objects.filter(pk__in=lead_ids, stage__in=Lead.OPEN_STAGES).values_list("pk", flat=True))
    if not open_ids:
        return 0
    written = leads_sync_upsert(rows={str(pk): {"stage": Lead.Stage.LOST} for pk in open_ids},
                                existing={str(pk): pk for pk in open_ids}, by=by, reason=reason)
    return len(written.ids)


def _payload(lead: Lead) -> dict:
    return {name: getattr(lead, name) for name in _PAYLOAD_FIELDS}
