"""Lead workflow: create, edit, move between stages, convert (creates a Customer) or lose. Each move is a history
row. The only code that writes Lead, LeadStageChange and Customer."""

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import Customer, Lead, LeadStageChange
from partners.models import Partner

User = AbstractBaseUser
# Fields of a lead a person may edit (stage and the closing fields have their own services).
EDITABLE_FIELDS = ("name", "company", "email", "phone", "partner", "assigned_to", "expected_value")


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
    lead.full_clean()
    lead.save()
    LeadStageChange.objects.create(lead=lead, from_stage="", to_stage=lead.stage, changed_by=by, changed_at=lead.created_at)
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
    """Move an open lead to another open stage (use lead_convert / lead_lose to close it)."""
    if to_stage not in Lead.OPEN_STAGES:
        raise ValidationError({"stage": "Use convert or lose to close a lead."})
    lead = _claim_open(lead)
    return _move(lead, to_stage, by, timezone.now())


@transaction.atomic
def lead_convert(
    *, lead: Lead, by: User | None, value: Decimal | None = None, when: datetime | None = None
) -> Customer:
    """Win the lead: books ``value`` (default: the expected value) and creates its Customer."""
    lead = _claim_open(lead)
    when = when or timezone.now()
    lead.value = value if value is not None else lead.expected_value
    lead.converted_at = when
    _move(lead, Lead.Stage.WON, by, when, extra_fields=["value", "converted_at"])
    return Customer.objects.create(
        name=lead.name,
        company=lead.company,
        email=lead.email,
        phone=lead.phone,
        lead=lead,
        partner_id=lead.partner_id,
        assigned_to_id=lead.assigned_to_id,
        created_at=when,
    )


@transaction.atomic
def lead_lose(*, lead: Lead, by: User | None, when: datetime | None = None) -> Lead:
    lead = _claim_open(lead)
    when = when or timezone.now()
    lead.lost_at = when
    return _move(lead, Lead.Stage.LOST, by, when, extra_fields=["lost_at"])


def _claim_open(lead: Lead) -> Lead:
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if locked.stage not in Lead.OPEN_STAGES:
        raise ValidationError(f"This lead is already {locked.get_stage_display().lower()}.")
    return locked


def _move(lead, to_stage, by, when, extra_fields=()):
    from_stage = lead.stage
    lead.stage = to_stage
    lead.save(update_fields=["stage", *extra_fields, "updated_at"])
    LeadStageChange.objects.create(lead=lead, from_stage=from_stage, to_stage=to_stage, changed_by=by, changed_at=when)
    return lead
