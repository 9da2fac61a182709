"""Writes of the insight rules (the admin's): validated, atomic. The rules themselves are created by data migrations
(0002_default_rules, 0006_rule_ticket_breach) and are never added or deleted, only configured."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from insights.models import Rule
from partners.models import Tier

# Which settings each rule reads (so a rule cannot be saved without what it needs).
NEEDS = {
    Rule.Code.ENGAGEMENT_DUE: ("days",),
    Rule.Code.BUSINESS_DROP: ("threshold_percent", "periods"),
    Rule.Code.TARGET_AT_RISK: ("threshold_percent",),
    Rule.Code.NO_NEXT_ENGAGEMENT: (),
    Rule.Code.INACTIVITY_RISK: ("days",),
    Rule.Code.LEAD_FOLLOW_UP: ("days",),
    Rule.Code.TIER_REVIEW: ("threshold_percent", "periods"),
    Rule.Code.TICKET_BREACH: (),
}
# Which rules read ``minimum`` (in the unit of the parameter they look at; every active parameter's own when none).
USES_MINIMUM = (Rule.Code.BUSINESS_DROP, Rule.Code.TARGET_AT_RISK)
LABELS = {"days": "Days", "threshold_percent": "Threshold percent", "periods": "Periods"}


def rule_check(*, rule: Rule) -> None:
    """The field validators (ranges: threshold 0–100 %, periods 1–24, days 0–365, minimum ≥ 0, suppression 1–365
    days, weight 0–100) and what the rule needs; ValidationError naming the field."""
    rule.full_clean(validate_unique=False)
    errors = {}
    if rule.minimum is not None and rule.code not in USES_MINIMUM:
        errors["minimum"] = (f"The rule “{rule.get_code_display()}” has no minimum: only business drop and target at "
                             "risk use one (leave it empty).")
    for name in NEEDS.get(rule.code, ()):
        if getattr(rule, name) is None:
            errors[name] = f"{LABELS[name]} is required for the rule “{rule.get_code_display()}”."
    if rule.parameter_id is not None and not rule.parameter.is_active:
        changed = Rule.objects.filter(pk=rule.pk).exclude(parameter_id=rule.parameter_id).exists() or not rule.pk
        if changed:
            errors["parameter"] = f"The parameter “{rule.parameter}” is deactivated: choose an active one or none."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def rule_save(*, rule: Rule, tiers: Iterable[Tier] | None = None) -> Rule:
    """Save a rule's configuration (and its tiers when given), after ``rule_check``."""
    rule_check(rule=rule)
    rule.save()
    if tiers is not None:
        rule.tiers.set(list(tiers))
    return rule
