"""Writes of the business app: targets (also as part of the partner add/edit flow) and the inputs of the inactivity
rules. The generated metrics live in business.metrics, the bulk upload in business.imports.

Partner rows are written by ``partners.services`` only: the add/edit flow composes ``partner_save`` with the targets in
one transaction, and the inactivity tagging hands ``partners.services.partners_apply_status_rules`` the rules as ORM
conditions and reason expressions.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    CharField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, Extract
from django.db.models.lookups import LessThan
from django.utils import timezone

from business import periods
from business.models import Achievement, InactivityRule, Target
from outbox.services import tombstones_record
from partners.models import Partner, Tier
from partners.services import StatusRule, TaggingResult, partner_save, partners_apply_status_rules

TargetKey = tuple[int, date]  # (parameter_id, period_start)


@transaction.atomic
def partner_targets_set(
    *, partner: Partner, values: dict[TargetKey, Decimal | None], by: AbstractBaseUser | None
) -> list[TargetKey]:
    """Set a partner's targets: ``values`` maps ``(parameter_id, period_start)`` to a Decimal, or None to delete.

    Four queries at most besides the read of the existing rows; returns the keys that changed. A deleted target
    leaves a tombstone (GET /api/v1/deletions/?type=target), in the same transaction.
    """
    for key, value in values.items():
        if value is not None and value < 0:
            raise ValidationError(f"target {key} must not be negative")
    keys = list(values)
    existing = {
        (t.parameter_id, t.period_start): t
        for t in Target.objects.filter(partner=partner, parameter_id__in={k[0] for k in keys},
                                       period_start__in={k[1] for k in keys})
    }
    create, update, delete = [], [], []
    for key, value in values.items():
        current = existing.get(key)
        if value is None:
            if current is not None:
                delete.append(current.pk)
        elif current is None:
            create.append(Target(partner=partner, parameter_id=key[0], period_start=key[1], value=value, set_by=by))
        elif current.value != value:
            current.value, current.set_by, current.upload_batch = value, by, None
            update.append(current)
    if create:
        Target.objects.bulk_create(create)
    if update:
        now = timezone.now()
        for target in update:
            target.updated_at = now
        Target.objects.bulk_update(update, ["value", "set_by", "upload_batch", "updated_at"])
    if delete:
        Target.objects.filter(pk__in=delete).delete()
        tombstones_record(subject_type="target", subject_ids=delete)
    return sorted([(t.parameter_id, t.period_start) for t in create + update]
                  + [k for k, t in existing.items() if t.pk in delete])


@transaction.atomic
def partner_profile_save(
    *,
    partner: Partner | None,
    by: AbstractBaseUser | None,
    fields: dict[str, object],
    status: str,
    status_reason: str,
    contacts: list[dict] | None,
    locations: list[dict] | None,
    targets: dict[TargetKey, Decimal | None],
) -> Partner:
    """The partner add/edit page's whole form in one transaction: the partner (fields, status, contacts, locations,
    row-locked, by ``partners.services.partner_save``) and its targets. Everything is saved, or nothing."""
    partner = partner_save(
        partner=partner, by=by, fields=fields, status=status, status_reason=status_reason, contacts=contacts,
        locations=locations,
    )
    partner_targets_set(partner=partner, values=targets, by=by)
    return partner


# --- Inactivity tagging: the rules' inputs ---------------------------------------------------------------------------


def partners_tag_inactive(*, now: datetime | None = None, dry_run: bool = False, sample: int = 20) -> TaggingResult:
    """Apply the inactivity rules (admin: Business › Inactivity rules) to every partner they govern, set-based.

    This app supplies the rules (per tier: not engaged within its frequency × the grace factor; and the business
    rule: the parameter's generated value in the last full period below the minimum); ``partners.services`` applies
    them, with the status history and the advisory lock.
    """
    now = now or timezone.now()
    return partners_apply_status_rules(rules=inactivity_rules(now=now), now=now, dry_run=dry_run, sample=sample)


def inactivity_rules(*, now: datetime) -> list[StatusRule]:
    """The enabled inactivity rules as set-based conditions and reason expressions over the partner table."""
    rule = InactivityRule.load()
    rules = []
    if rule.engagement_enabled:
        rules += [_engagement_rule(tier, rule.grace_factor, now) for tier in Tier.objects.order_by("rank")]
    if rule.business_enabled and rule.business_parameter is not None:
        rules.append(_business_rule(rule, now))
    return rules


def _engagement_rule(tier: Tier, grace_factor: Decimal, now: datetime) -> StatusRule:
    """Partners of ``tier`` not engaged (or, never engaged, not created) since the tier's frequency × grace."""
    cutoff = now - timedelta(days=float(tier.engage_every_days * grace_factor))
    since = ExpressionWrapper(Value(now) - Coalesce(F("last_engaged_at"), F("created_at")), output_field=DurationField())
    days = Cast(Extract(since, "day"), CharField())
    suffix = f" days ({tier.name}: every {tier.engage_every_days})"
    return StatusRule(
        breaks=Q(tier=tier) & (Q(last_engaged_at__lt=cutoff) | Q(last_engaged_at__isnull=True, created_at__lt=cutoff)),
        reason=Concat(Value("not engaged for "), days, Value(suffix), output_field=CharField()),
    )


class _Thousands(Func):
    """A number rounded and formatted as 1,200 (PostgreSQL's to_char)."""

    template = "to_char(ROUND(%(expressions)s), 'FM999,999,999,999,999,990')"
    output_field = CharField()


def _business_rule(rule: InactivityRule, now: datetime) -> StatusRule:
    """Partners whose generated value of the rule's parameter in the last full period is below the minimum (a missing
    row is 0). Partners created after that period ended had no chance to bring business in it and are not judged."""
    parameter = rule.business_parameter
    current = periods.period_start(periods.org_today(now), parameter.frequency)
    last_full = periods.shift(current, parameter.frequency, -1)
    value = Coalesce(
        Subquery(
            Achievement.objects.filter(partner=OuterRef("pk"), parameter=parameter, period_start=last_full)
            .values("value")[:1]
        ),
        Value(Decimal(0)),
        output_field=DecimalField(max_digits=18, decimal_places=4),
    )
    prefix = f"{parameter.name} "
    suffix = f" {parameter.unit} in {periods.label(last_full, parameter.frequency)} below minimum {_fmt(rule.business_minimum)}"
    return StatusRule(
        breaks=Q(created_at__lt=_local_midnight(current)) & Q(LessThan(value, Value(rule.business_minimum))),
        reason=Concat(Value(prefix), _Thousands(value), Value(suffix), output_field=CharField()),
    )


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day), timezone.get_default_timezone())


def _fmt(value: Decimal) -> str:
    value = Decimal(value)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
