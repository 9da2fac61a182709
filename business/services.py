"""Writes of the business app: targets entered on the partner form, and the inactivity tagging.

The generated metrics live in business.metrics.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from business import periods
from business.metrics import advisory_xact_lock
from business.models import InactivityRule, Target
from partners.models import Partner, StatusChange, Tier

INACTIVITY_LOCK = 0x50524D_0002  # advisory lock key of the tagging run ("PRM" + 2)


@transaction.atomic
def partner_targets_set(*, partner, values, by):
    """Set a partner's targets: ``values`` maps ``(parameter_id, period_start)`` to a Decimal, or None to delete.

    Three queries at most besides the read of the existing rows; returns the keys that changed.
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
    return sorted([(t.parameter_id, t.period_start) for t in create + update]
                  + [k for k, t in existing.items() if t.pk in delete])


# --- Inactivity tagging -------------------------------------------------------------------------------------------

@dataclass
class TaggingResult:
    deactivated: int = 0
    reactivated: int = 0
    dry_run: bool = False
    changes: list = field(default_factory=list)  # first few changes: (code, name, from, to, reason)

    def __str__(self):
        verb = "would change" if self.dry_run else "changed"
        return f"{verb}: {self.deactivated} partners inactive, {self.reactivated} partners active again"


def rule_governed_sql(alias="p"):
    """SQL condition: the rules may change this partner's status.

    A status chosen by a person is never changed by the rules. Precisely, the rules govern a partner when
    ``status_set_by = 'rule'`` (a rule set it, or a manager handed it back to the rules), or when the partner still has
    the status it was created with, Active with no reason, and no one ever changed its status by hand (no manual
    StatusChange row). Anything else set by hand (Inactive, or Active with a reason) stays as it is.
    """
    return (
        f"({alias}.status_set_by = 'rule' OR"  # noqa: S608 (alias is a constant of this module)
        f" ({alias}.status_set_by = 'manual' AND {alias}.status = 'active'"
        f" AND {alias}.status_reason = '' AND NOT EXISTS (SELECT 1 FROM partners_statuschange sc"
        f" WHERE sc.partner_id = {alias}.id AND sc.set_by = 'manual')))"
    )


def partners_tag_inactive(*, now=None, dry_run=False, sample=20):
    """Apply the inactivity rules to every partner the rules govern, set-based (a handful of statements per tier).

    A governed Active partner that breaks a rule becomes Inactive with the reason; a partner the rules made Inactive
    that meets every enabled rule again becomes Active. Each change is a StatusChange row (INSERT … SELECT). With
    ``dry_run`` everything runs inside a transaction that is rolled back: the result says what would change, nothing is
    kept. Two runs at once serialise on a Postgres advisory lock.
    """
    # The run's timestamp marks the rows it changed (status_changed_at), to record them as StatusChange rows.
    now = now or timezone.now()
    rule = InactivityRule.load()
    result = TaggingResult(dry_run=dry_run)
    with transaction.atomic():
        advisory_xact_lock(INACTIVITY_LOCK)
        _jit_off()
        engaged = _engagement_conditions(rule, now)
        business = _business_condition(rule, now)
        with connection.cursor() as cursor:
            result.deactivated = _deactivate(cursor, now, engaged, business)
            result.reactivated = _reactivate(cursor, now, engaged, business)
            if not dry_run:  # rolled back anyway: the history rows would only cost time
                _record_changes(cursor, now)
        result.changes = list(
            Partner.objects.filter(status_changed_at=now, status_set_by=Partner.StatusSetBy.RULE)
            .order_by("name", "id")
            .values_list("code", "name", "status", "status_reason")[:sample]
        )
        if dry_run:
            transaction.set_rollback(True)
    return result


def _jit_off():
    """PostgreSQL: no JIT compilation for the rest of this transaction.

    The planner's cost estimates of the per-tier UPDATEs pass ``jit_above_cost``, and compiling each one took
    ~0.27 s (EXPLAIN ANALYZE, 100,000 partners): a run that changes nothing went from 0.6–0.8 s to 0.1 s. Same plans,
    same results. (SET LOCAL: the setting ends with the transaction, or with the caller's if it runs inside one.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _engagement_conditions(rule, now):
    """Per tier: (tier, cutoff) — partners of the tier not engaged since ``cutoff`` break the engagement rule."""
    if not rule.engagement_enabled:
        return []
    return [
        (tier, now - timedelta(days=float(tier.engage_every_days * rule.grace_factor)))
        for tier in Tier.objects.order_by("rank")
    ]


def _business_condition(rule, now):
    """(sql value expression, params, reason prefix/suffix, params) for the business rule, or None when it is off."""
    parameter = rule.business_parameter
    if not rule.business_enabled or parameter is None:
        return None
    today = timezone.localtime(now).date()
    current = periods.period_start(today, parameter.frequency)
    last_full = periods.shift(current, parameter.frequency, -1)
    period_end = _local_midnight(current)
    value_sql = (
        "COALESCE((SELECT a.value FROM business_achievement a WHERE a.partner_id = p.id AND a.parameter_id = %s"
        " AND a.period_start = %s), 0)"
    )
    return {
        "value_sql": value_sql,
        "value_params": [parameter.pk, last_full],
        "minimum": rule.business_minimum,
        # partners created after the period ended had no chance to bring business in it
        "created_before": connection.ops.adapt_datetimefield_value(period_end),
        "label": periods.label(last_full, parameter.frequency),
        "parameter": parameter,
    }


def _local_midnight(day):
    return timezone.make_aware(datetime(day.year, day.month, day.day), timezone.get_default_timezone())


def _days_since_sql():
    if connection.vendor == "postgresql":
        return "FLOOR(EXTRACT(EPOCH FROM (%s - COALESCE(p.last_engaged_at, p.created_at))) / 86400)::integer"
    return "CAST(julianday(%s) - julianday(COALESCE(p.last_engaged_at, p.created_at)) AS INTEGER)"


def _number_sql(expr):
    """An SQL expression formatting a number as 1,200 (rounded to a whole number)."""
    if connection.vendor == "postgresql":
        return f"to_char(ROUND({expr}), 'FM999,999,999,999,999,990')"
    return f"printf('%%,d', CAST(ROUND({expr}) AS INTEGER))"


def _fmt(value):
    value = Decimal(value)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def _deactivate(cursor, now, engaged, business):
    stamp = connection.ops.adapt_datetimefield_value(now)
    count = 0
    governed = rule_governed_sql("p")
    set_rule = "status = 'inactive', status_set_by = 'rule', status_changed_at = %s, updated_at = %s"
    for tier, cutoff in engaged:
        suffix = f" days ({tier.name}: every {tier.engage_every_days})"  # a parameter: admins type tier names
        cursor.execute(
            f"UPDATE partners_partner AS p SET {set_rule},"  # noqa: S608 (constants only; values are parameters)
            f" status_reason = SUBSTR('not engaged for ' || {_days_since_sql()} || %s, 1, 255)"
            f" WHERE p.tier_id = %s AND p.status = 'active' AND {governed}"
            " AND COALESCE(p.last_engaged_at, p.created_at) < %s",
            [stamp, stamp, stamp, suffix, tier.pk, connection.ops.adapt_datetimefield_value(cutoff)],
        )
        count += cursor.rowcount
    if business is not None:
        b = business
        prefix = f"{b['parameter'].name} "
        suffix = f" {b['parameter'].unit} in {b['label']} below minimum {_fmt(b['minimum'])}"
        cursor.execute(
            f"UPDATE partners_partner AS p SET {set_rule},"  # noqa: S608 (constants only; values are parameters)
            f" status_reason = SUBSTR(%s || {_number_sql(b['value_sql'])} || %s, 1, 255)"
            f" WHERE p.status = 'active' AND {governed} AND p.created_at < %s AND {b['value_sql']} < CAST(%s AS NUMERIC)",
            [stamp, stamp, prefix, *b["value_params"], suffix, b["created_before"], *b["value_params"],
             b["minimum"]],
        )
        count += cursor.rowcount
    return count


def _reactivate(cursor, now, engaged, business):
    """Partners the rules made inactive that now meet every enabled rule become active again (one UPDATE per tier)."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    base = (
        "UPDATE partners_partner AS p SET status = 'active', status_set_by = 'rule', status_changed_at = %s,"
        " updated_at = %s, status_reason = 'meets the inactivity rules again'"
        " WHERE p.status = 'inactive' AND p.status_set_by = 'rule'"
    )
    business_ok, business_params = "", []
    if business is not None:
        business_ok = f" AND NOT (p.created_at < %s AND {business['value_sql']} < CAST(%s AS NUMERIC))"
        business_params = [business["created_before"], *business["value_params"], business["minimum"]]
    count = 0
    if engaged:
        for tier, cutoff in engaged:
            cursor.execute(
                base + " AND p.tier_id = %s AND COALESCE(p.last_engaged_at, p.created_at) >= %s" + business_ok,
                [stamp, stamp, tier.pk, connection.ops.adapt_datetimefield_value(cutoff), *business_params],
            )
            count += cursor.rowcount
        cursor.execute(base + " AND p.tier_id IS NULL" + business_ok, [stamp, stamp, *business_params])
    else:
        cursor.execute(base + business_ok, [stamp, stamp, *business_params])
    return count + cursor.rowcount


def _record_changes(cursor, now):
    """One StatusChange row per partner this run changed (found by the run's timestamp), in one INSERT … SELECT."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    table = StatusChange._meta.db_table
    cursor.execute(
        f"INSERT INTO {table} (partner_id, from_status"  # noqa: S608 (table name from the model)
        f", to_status, reason, set_by, changed_by_id, changed_at)"
        " SELECT p.id, CASE p.status WHEN 'active' THEN 'inactive' ELSE 'active' END, p.status, p.status_reason,"
        " 'rule', NULL, %s FROM partners_partner p WHERE p.status_changed_at = %s AND p.status_set_by = 'rule'",
        [stamp, stamp],
    )
