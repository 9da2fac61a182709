"""Lead workflow: create, move between stages, convert (creates a Customer) or lose. Each move is a history row."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import Customer, Lead, LeadStageChange


@transaction.atomic
def lead_create(*, by, name, partner=None, assigned_to=None, expected_value=None, created_at=None, **fields):
    lead = Lead(
        name=name,
        partner=partner,
        assigned_to=assigned_to or by,
        expected_value=expected_value,
        created_at=created_at or timezone.now(),
        **fields,
    )
    lead.full_clean()
    lead.save()
    LeadStageChange.objects.create(lead=lead, from_stage="", to_stage=lead.stage, changed_by=by, changed_at=lead.created_at)
    return lead


@transaction.atomic
def lead_move(*, lead, to_stage, by):
    """Move an open lead to another open stage (use lead_convert / lead_lose to close it)."""
    if to_stage not in Lead.OPEN_STAGES:
        raise ValidationError({"stage": "Use convert or lose to close a lead."})
    lead = _claim_open(lead)
    return _move(lead, to_stage, by, timezone.now())


@transaction.atomic
def lead_convert(*, lead, by, value=None, when=None):
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
def lead_lose(*, lead, by, when=None):
    lead = _claim_open(lead)
    when = when or timezone.now()
    lead.lost_at = when
    return _move(lead, Lead.Stage.LOST, by, when, extra_fields=["lost_at"])


def _claim_open(lead):
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
