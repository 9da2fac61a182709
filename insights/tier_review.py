"""Rule 7, tier review: each tier's expected business band per parameter (``TierBand``), and the promote/demote
suggestions for partners well outside their tier's band for N full periods in a row, which a manager accepts or
rejects (never applied silently).

Decisions
- A band is per period of the parameter (a monthly parameter's band is per month). ``threshold_percent`` of the rule
  widens it: "well above" is above ``high × (1 + t)``, "well below" is below ``low × (1 − t)``.
- The last ``periods`` *full* periods are compared (the current one is in progress). A computed parameter's missing
  row is 0 (nothing generated, see business.metrics); an uploaded parameter's missing row is unknown, so a partner
  with a gap in those periods is not judged. Partners created after the first of those periods began are not judged
  either (no chance to bring business), nor inactive partners, nor partners without a tier.
- The suggestion is the next tier by rank (rank 1 is the highest): promote to the tier ranked just above, demote to
  the one just below; none when there is no such tier. The fingerprint is
  ``tier_review:<partner>:<parameter code>:<promote|demote>:<to tier id>``: the target tier is part of it, so after
  an accepted promotion Gold → Platinum a later Platinum → … suggestion is a new insight, not the accepted one.
- Evaluation is one INSERT … SELECT … ON CONFLICT per call (all partners, or ``partner_ids``): set-based, idempotent.
  The state rules are insights.evaluate's: a resolved insight found again reopens, a dismissed one only once its
  suppression has passed, a snoozed one once its day has come; accepted and open ones keep their state. The score
  has evaluate's shape too: rule weight + tier points (40 − 10 × rank) + how far outside the band (% ÷ 2, ≤ 50). Resolving what was *not* found is the caller's
  (insights.evaluate), from the fingerprints returned.
- Accepting changes the partner's tier through ``partners.services.partner_update`` (which also moves the engagement
  due date to the new tier's frequency). The partners app keeps no tier history table; the accepted insight is the
  record: who (``reacted_by``), when (``reacted_at``) and from/to which tier (``evidence``).
- The default target of a new partner of a tier is the band's *low* end (``tier_band_defaults``): the least the tier
  expects, attainable for a partner that is still ramping up; the form shows it in the target boxes, editable.
"""

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from business import periods
from business.models import Parameter
from insights import services as insight_services
from insights.models import Insight, Rule, TierBand
from partners.models import Partner, Tier
from partners.services import partner_lock, partner_update
from prm import formats

DEFAULT_THRESHOLD = Decimal("25")
DEFAULT_PERIODS = 3
TIER_CHANGED = "The partner's tier changed since this suggestion was made: nothing was saved. Review it again."
ALREADY_HANDLED = "Someone already acted on this suggestion: nothing was saved."


# --- Bands: writes -----------------------------------------------------------------------------------------------------


@transaction.atomic
def tier_band_save(
    *, band: TierBand | None, tier: Tier, parameter: Parameter, low: Decimal, high: Decimal
) -> TierBand:
    """Create (``band`` None) or change a tier's band for a parameter. ValidationError naming the field for a negative
    value, ``low`` above ``high``, or a second band for the same tier and parameter; nothing written then."""
    band = band if band is not None else TierBand()
    band.tier, band.parameter, band.low, band.high = tier, parameter, low, high
    band.full_clean()
    band.save()
    return band


@transaction.atomic
def tier_band_delete(*, bands: list[int]) -> int:
    """Delete the bands with these ids; returns how many were deleted."""
    deleted, _ = TierBand.objects.filter(pk__in=bands).delete()
    return deleted


# --- Bands: reads ------------------------------------------------------------------------------------------------------


def tier_bands_for_partner(partner: Partner) -> dict[int, dict]:
    """The partner's tier's bands by parameter id, for the business card: ``{parameter_id: {"low", "high", "tier"}}``.
    One query; none when the partner has no tier."""
    if partner.tier_id is None:
        return {}
    rows = TierBand.objects.filter(tier_id=partner.tier_id, parameter__is_active=True).values_list(
        "parameter_id", "low", "high", "tier__name")
    return {pid: {"low": low, "high": high, "tier": tier} for pid, low, high, tier in rows}


def tier_band_defaults() -> dict[int, dict[int, Decimal]]:
    """``{tier_id: {parameter_id: low}}`` of every band of an active parameter: the default targets proposed for a new
    partner of each tier (the low end, see the module's Decisions). One query."""
    result: dict[int, dict[int, Decimal]] = {}
    for tier_id, parameter_id, low in TierBand.objects.filter(parameter__is_active=True).values_list(
            "tier_id", "parameter_id", "low"):
        result.setdefault(tier_id, {})[parameter_id] = low
    return result


def band_text(band: dict | None, unit: str) -> str:
    """"INR 50,000–100,000" for a band of ``tier_bands_for_partner``; "" for None."""
    if not band:
        return ""
    return f"{formats.format_quantity(band['low'], unit)}–{formats.format_number(band['high'])}"


# --- Evaluation --------------------------------------------------------------------------------------------------------


_EVALUATE_SQL = """
WITH per AS (
    SELECT * FROM unnest(%(parameter_ids)s::bigint[], %(starts)s::date[], %(labels)s::text[], %(since)s::timestamptz[])
        AS per(parameter_id, period_start, label, judged_since)
),
firsts AS (
    SELECT parameter_id, min(judged_since) AS judged_since FROM per GROUP BY parameter_id
),
-- The judged periods' rows, summarised per partner and parameter (min/max/count only: the arrays of the evidence are
-- built for the few partners found, below). One pass over the (parameter, period_start) range.
agg AS (
    SELECT a.partner_id, a.parameter_id, count(*) AS cnt, min(a.value) AS min_value, max(a.value) AS max_value
    FROM business_achievement a JOIN per ON per.parameter_id = a.parameter_id AND per.period_start = a.period_start
    WHERE (%(all_partners)s OR a.partner_id = ANY(%(partner_ids)s::bigint[]))
      AND a.partner_id >= %(id_from)s AND a.partner_id < %(id_to)s
    GROUP BY a.partner_id, a.parameter_id
),
judged AS (
    SELECT pa.id AS partner_id, pa.tier_id, t.rank, t.name AS tier_name, b.parameter_id, b.low, b.high,
           par.code, par.name AS parameter_name, par.unit, par.source,
           -- a computed parameter's missing row is 0: fewer rows than periods means a 0 among them
           CASE WHEN par.source = 'computed' AND COALESCE(agg.cnt, 0) < %(n)s THEN 0 ELSE agg.min_value END
               AS min_value,
           CASE WHEN par.source = 'computed' THEN COALESCE(agg.max_value, 0) ELSE agg.max_value END AS max_value,
           CASE WHEN par.source = 'computed' THEN %(n)s ELSE COALESCE(agg.cnt, 0) END AS known
    FROM partners_partner pa
    JOIN partners_tier t ON t.id = pa.tier_id
    JOIN insights_tierband b ON b.tier_id = pa.tier_id
    JOIN business_parameter par ON par.id = b.parameter_id AND par.is_active
    JOIN firsts ON firsts.parameter_id = b.parameter_id
    LEFT JOIN agg ON agg.partner_id = pa.id AND agg.parameter_id = b.parameter_id
    WHERE pa.status = 'active' AND pa.created_at < firsts.judged_since
      AND (%(all_tiers)s OR pa.tier_id = ANY(%(tier_ids)s::bigint[]))
      AND (%(all_partners)s OR pa.id = ANY(%(partner_ids)s::bigint[]))
      AND pa.id >= %(id_from)s AND pa.id < %(id_to)s
),
outside AS (
    SELECT j.*, j.min_value > j.high * (1 + %(t)s) AS above
    FROM judged j
    WHERE j.known = %(n)s AND (j.min_value > j.high * (1 + %(t)s) OR j.max_value < j.low * (1 - %(t)s))
),
found AS (
    SELECT o.*, CASE WHEN o.above THEN 'promote' ELSE 'demote' END AS direction, nt.id AS to_tier_id,
           nt.name AS to_tier_name, v.labels, v.vals, v.last_start,
           -- how far outside the band, in percent of the edge it crossed (the period closest to the band)
           CASE WHEN o.above THEN CASE WHEN o.high > 0 THEN (o.min_value - o.high) * 100 / o.high ELSE 100 END
                ELSE CASE WHEN o.low > 0 THEN (o.low - o.max_value) * 100 / o.low ELSE 100 END END AS distance
    FROM outside o
    CROSS JOIN LATERAL (
        SELECT id, name FROM partners_tier nt
        WHERE CASE WHEN o.above THEN nt.rank < o.rank ELSE nt.rank > o.rank END
        ORDER BY CASE WHEN o.above THEN -nt.rank ELSE nt.rank END LIMIT 1
    ) nt
    CROSS JOIN LATERAL (
        SELECT array_agg(per.label ORDER BY per.period_start) AS labels,
               array_agg(CASE WHEN o.source = 'computed' THEN COALESCE(a.value, 0) ELSE a.value END
                         ORDER BY per.period_start) AS vals,
               max(per.period_start) AS last_start
        FROM per LEFT JOIN business_achievement a
            ON a.partner_id = o.partner_id AND a.parameter_id = per.parameter_id AND a.period_start = per.period_start
        WHERE per.parameter_id = o.parameter_id
    ) v
)
INSERT INTO insights_insight AS i (rule_id, partner_id, subject, period_start, fingerprint, evidence, score, state,
                              created_at, updated_at, last_seen_at, dismiss_reason)
SELECT %(rule_id)s, f.partner_id, f.code, f.last_start,
       'tier_review:' || f.partner_id || ':' || f.code || ':' || f.direction || ':' || f.to_tier_id,
       jsonb_build_object(
           'parameter', f.code, 'parameter_name', f.parameter_name, 'unit', f.unit, 'periods', to_jsonb(f.labels),
           'values', to_jsonb(f.vals), 'low', f.low, 'high', f.high, 'threshold_percent', %(t_percent)s,
           'direction', f.direction, 'from_tier', f.tier_name, 'from_tier_id', f.tier_id,
           'to_tier', f.to_tier_name, 'to_tier_id', f.to_tier_id),
       %(weight)s + GREATEST(0, 40 - 10 * f.rank) + LEAST(GREATEST(f.distance, 0) / 2, 50)::int,
       'open', %(now)s, %(now)s, %(now)s, ''
FROM found f
ON CONFLICT (fingerprint) DO UPDATE SET
    evidence = EXCLUDED.evidence, score = EXCLUDED.score, period_start = EXCLUDED.period_start,
    last_seen_at = EXCLUDED.last_seen_at,
    state = {new_state},
    resolved_at = CASE WHEN ({new_state}) = 'open' THEN NULL ELSE i.resolved_at END,
    updated_at = CASE WHEN i.evidence = EXCLUDED.evidence AND i.score = EXCLUDED.score AND i.state = ({new_state})
                      THEN i.updated_at ELSE EXCLUDED.updated_at END
RETURNING fingerprint
"""
# The same state rules as insights.evaluate's upsert: resolved → open; dismissed → open once its suppression passed;
# snoozed → open once its day has come; the rest (open, accepted) stay.
_NEW_STATE = (
    "CASE WHEN i.state = 'resolved' THEN 'open'"
    " WHEN i.state = 'dismissed' AND i.suppressed_until <= %(now)s THEN 'open'"
    " WHEN i.state = 'snoozed' AND (i.snoozed_until IS NULL OR i.snoozed_until <= %(today)s) THEN 'open'"
    " ELSE i.state END"
)
_EVALUATE_SQL = _EVALUATE_SQL.replace("{new_state}", _NEW_STATE)


def evaluate_tier_review(
    *, now: datetime, partner_ids=None, id_range: tuple[int, int] | None = None
) -> set[str]:
    """Find the partners well outside their tier's band for the rule's last N full periods and upsert their
    promote/demote insights, in one statement (plus two small reads: the rule and its parameters); only
    ``partner_ids``, or the partner ids in ``id_range`` = [from, to) (a part of a split nightly run). Returns the
    fingerprints found (the caller resolves this rule's open insights not among them). A disabled rule, a rule
    whose parameter is inactive, or no bands: nothing found, no error."""
    rule = Rule.objects.filter(code=Rule.Code.TIER_REVIEW).first()
    if rule is None or not rule.enabled:
        return set()
    if partner_ids is not None:
        partner_ids = list(partner_ids)
        if not partner_ids:
            return set()
    n = rule.periods or DEFAULT_PERIODS
    threshold = rule.threshold_percent if rule.threshold_percent is not None else DEFAULT_THRESHOLD
    parameters = Parameter.objects.filter(is_active=True, tier_bands__isnull=False).distinct()
    if rule.parameter_id is not None:
        parameters = parameters.filter(pk=rule.parameter_id)
    today = periods.org_today(now)
    parameter_ids, starts, labels, since = [], [], [], []
    for parameter in parameters:
        current = periods.period_start(today, parameter.frequency)
        first = periods.shift(current, parameter.frequency, -n)
        judged_since = timezone.make_aware(datetime(first.year, first.month, first.day),
                                           timezone.get_default_timezone())
        for k in range(n, 0, -1):
            start = periods.shift(current, parameter.frequency, -k)
            parameter_ids.append(parameter.pk)
            starts.append(start)
            labels.append(periods.label(start, parameter.frequency))
            since.append(judged_since)
    if not parameter_ids:
        return set()
    tier_ids = list(rule.tiers.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(_EVALUATE_SQL, {
            "parameter_ids": parameter_ids, "starts": starts, "labels": labels, "since": since,
            "t": threshold / 100, "t_percent": threshold, "n": n, "rule_id": rule.pk, "weight": rule.weight,
            "now": now, "today": today, "all_tiers": not tier_ids, "tier_ids": tier_ids,
            "all_partners": partner_ids is None, "partner_ids": partner_ids or [],
            "id_from": id_range[0] if id_range else 0, "id_to": id_range[1] if id_range else 2**63 - 1,
        })
        return {row[0] for row in cursor.fetchall()}


# --- The sentence ------------------------------------------------------------------------------------------------------


def tier_review_sentence(evidence: dict) -> str:
    """The insight's sentence, from its evidence only: "Revenue above the Gold band (USD 50,000–100,000) by more than
    25% for 3 periods in a row (2026-08: USD 140,000 · …). Suggest promoting to Platinum." """
    unit = evidence.get("unit", "")
    band = band_text({"low": evidence.get("low"), "high": evidence.get("high")}, unit)
    values = " · ".join(
        f"{formats.format_period(label)}: {formats.format_quantity(value, unit)}"
        for label, value in zip(evidence.get("periods", []), evidence.get("values", []), strict=False)
    )
    promote = evidence.get("direction") == "promote"
    count = len(evidence.get("periods", []))
    return (
        f"{evidence.get('parameter_name', evidence.get('parameter', ''))} "
        f"{'above' if promote else 'below'} the {evidence.get('from_tier', '')} band ({band}) by more than "
        f"{formats.format_number(evidence.get('threshold_percent', ''))}% for {count} "
        f"period{'s' if count != 1 else ''} in a row ({values}). "
        f"Suggest {'promoting' if promote else 'demoting'} to {evidence.get('to_tier', '')}."
    )


# --- A manager's decision ----------------------------------------------------------------------------------------------


@transaction.atomic
def tier_suggestion_accept(*, insight: Insight, by: AbstractBaseUser | None) -> Partner:
    """Accept a tier-review suggestion: the partner moves to the suggested tier (partners.services) and the insight is
    marked accepted, both or neither. ValidationError when it was already handled, when the partner's tier is no
    longer the one the suggestion was made from, or when the suggested tier is gone."""
    if insight.rule.code != Rule.Code.TIER_REVIEW:
        raise ValidationError("This is not a tier-review suggestion.")
    evidence = insight.evidence or {}
    now = timezone.now()
    claimed = Insight.objects.filter(pk=insight.pk, state__in=insight_services.REACTABLE).update(
        state=Insight.State.ACCEPTED, reacted_by=by, reacted_at=now, updated_at=now)
    if not claimed:
        raise ValidationError(ALREADY_HANDLED)
    partner = partner_lock(partner_id=insight.partner_id)
    if partner.tier_id != evidence.get("from_tier_id"):
        raise ValidationError(TIER_CHANGED)
    to_tier = Tier.objects.filter(pk=evidence.get("to_tier_id")).first()
    if to_tier is None:
        raise ValidationError(TIER_CHANGED)
    partner_update(partner=partner, by=by, tier=to_tier)
    insight.state, insight.reacted_by, insight.reacted_at = Insight.State.ACCEPTED, by, now
    return partner


def tier_suggestion_reject(*, insight: Insight, by: AbstractBaseUser | None, reason: str) -> bool:
    """Reject a tier-review suggestion for a ``reason``: dismissed, and its fingerprint suppressed for the rule's
    suppression days (``insights.services.insight_dismiss``). The tier does not change."""
    if insight.rule.code != Rule.Code.TIER_REVIEW:
        raise ValidationError("This is not a tier-review suggestion.")
    return insight_services.insight_dismiss(insight=insight, by=by, reason=reason)
