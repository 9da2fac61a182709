"""Reads of insights: what a user may see, what is shown on the partner page and on Today, and the managers' rates.

Visibility is the partners app's (``partners.selectors.partner_visible_to``): an insight is visible when its partner
is. Tier-review suggestions are for managers ("a manager accepts or rejects", issue 12): reps neither see nor reach
them. Query budgets are in each docstring and asserted in tests/insights.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from insights.models import Insight, Rule
from insights.sentences import insight_sentence
from partners.models import Partner, Tier
from partners.selectors import partner_visible_to, user_sees_all_partners

TODAY_LIMIT = 10
PARTNER_LIMIT = 3


def insight_visible_to(user: AbstractBaseUser) -> QuerySet[Insight]:
    """Every insight ``user`` may see or react to (any state), as a queryset to filter further. No query of its own
    beyond the visibility check (``user_sees_all_partners``: once per request)."""
    insights = Insight.objects.filter(partner__in=partner_visible_to(user))
    if not user_sees_all_partners(user):
        insights = insights.exclude(rule__code=Rule.Code.TIER_REVIEW)
    return insights


def insight_get_for_user(user: AbstractBaseUser, pk: int) -> Insight:
    """The insight ``pk`` if ``user`` may see it, else Http404 (on every verb: look up first, then act). Preloads the
    rule and the partner with its tier. One query (plus the visibility check, once per request)."""
    return get_object_or_404(insight_visible_to(user).select_related("rule", "partner__tier"), pk=pk)


def shown_now(now: datetime | None = None) -> Q:
    """The insights a rep should see now: open, not suppressed, of an enabled rule.

    A snoozed or dismissed insight comes back only through the evaluation (insights.evaluate: ``snoozed`` → ``open``
    once ``snoozed_until`` has come, ``dismissed`` → ``open`` once ``suppressed_until`` has passed), and only if its
    cause is still there — a snoozed insight whose cause went away must not come back with stale numbers. So a snooze
    "until Friday" shows again at Friday's nightly run (or the partner's next re-evaluation). Reading ``state = 'open'``
    alone also lets Today rank on the partial index of open insights by score."""
    now = now or timezone.now()
    not_suppressed = Q(suppressed_until__isnull=True) | Q(suppressed_until__lte=now)
    return Q(state=Insight.State.OPEN) & not_suppressed & Q(rule__enabled=True)


def with_sentences(insights: list[Insight]) -> list[Insight]:
    """Each insight's sentence, rendered from its evidence (``insights.sentences``, no query), as ``.sentence``."""
    for insight in insights:
        insight.sentence = insight_sentence(insight)
    return insights


def insights_for_partner(*, partner: Partner, sees_all: bool, limit: int = PARTNER_LIMIT) -> list[Insight]:
    """The top ``limit`` insights shown for ``partner`` (already checked visible), best score first, with their rule;
    ``.partner`` is ``partner`` itself (no query to render). ``sees_all``: the user is a manager (tier reviews are
    theirs). One query."""
    insights = Insight.objects.filter(shown_now(), partner=partner).select_related("rule").order_by("-score", "-id")
    if not sees_all:
        insights = insights.exclude(rule__code=Rule.Code.TIER_REVIEW)
    rows = list(insights[:limit])
    for insight in rows:
        insight.partner = partner
    return with_sentences(rows)


def insights_for_today(
    *, partners: QuerySet[Partner], sees_all: bool, whole_team: bool = False, limit: int = TODAY_LIMIT
) -> list[Insight]:
    """The top ``limit`` insights shown across ``partners`` (Today's scope: ``partners.selectors.partner_today_scope``),
    best score first, with rule, partner and tier (for the card's name and tier badge). One query.

    Two plans, chosen by ``whole_team`` (a manager's Today over every partner): walking the partial index of open
    insights by score stops after ``limit`` rows when nearly every open insight is in scope (9 ms at 100k partners and
    130k open insights); for one rep's partners that walk reads the whole index when the rep has few insights (320 ms
    for a rep with none), so there the ranking is on ``score + 0`` — not the index — and PostgreSQL goes partner by
    partner on the (partner, state, score) index and sorts the few rows found (6 ms for 500 partners, 4 ms for one).

    The statement is fixed (``_TODAY_SQL``; the scope's SQL goes in it), the rows built with ``Model.from_db``: the
    ORM compiling it with its joins cost more Python than the rows (docs/benchmarks.md, issue 13). The conditions are
    ``shown_now``'s, and the tier reviews are left out for a rep as ``insight_visible_to`` does."""
    try:
        scope_sql, scope_params = partners.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # nobody's partners
        return []
    conditions = _TODAY_SHOWN if sees_all else f"{_TODAY_SHOWN} AND r.code <> '{Rule.Code.TIER_REVIEW.value}'"
    params = [timezone.now(), *scope_params, limit]
    if whole_team:
        # The index walk stops after ``limit`` rows: read them whole directly (as an id subquery, PostgreSQL planned
        # a parallel sort of every open insight: 35 ms instead of 9).
        where, order = conditions, "ORDER BY i.score DESC, i.id DESC LIMIT %s"
    else:
        # Ranked on the narrow columns first (a subquery of ids), then only the ``limit`` winners are read whole with
        # their rule, partner and tier: sorting ~2,000 whole rows (evidence included) for a rep with 500 partners
        # cost 12.7 ms, the two steps 4.5 ms (docs/benchmarks.md, issue 13).
        where, order = _TODAY_TOP_IDS.replace("{conditions}", conditions), "ORDER BY i.score DESC, i.id DESC"
    with connection.cursor() as cursor:
        cursor.execute(_TODAY_SQL.format(where=where.format(scope=scope_sql), order=order), params)
        found = cursor.fetchall()
    evidence = Insight._meta.get_field("evidence")
    rows = []
    for values in found:
        insight, rule, partner, tier, _rest = (values[start:end] for start, end in _TODAY_SLICES)
        row = Insight.from_db(connection.alias, _TODAY_INSIGHT, insight)
        row.evidence = evidence.from_db_value(row.evidence, None, connection)
        Insight.rule.field.set_cached_value(row, Rule.from_db(connection.alias, _TODAY_RULE, rule))
        owner = Partner.from_db(connection.alias, _TODAY_PARTNER, partner)
        Partner.tier.field.set_cached_value(
            owner, None if tier[0] is None else Tier.from_db(connection.alias, _TODAY_TIER, tier)
        )
        Insight.partner.field.set_cached_value(row, owner)
        rows.append(row)
    return with_sentences(rows)


def _fields(model, names: set[str]) -> tuple[str, ...]:
    """``names`` in ``model``'s field order (``Model.from_db`` takes a subset of the fields in that order)."""
    return tuple(field.attname for field in model._meta.concrete_fields if field.attname in names)


def _slices(*groups: tuple[str, ...]) -> list[tuple[int, int | None]]:
    """Where each group of columns is in a row, and the rest after them (``row[start:end]``)."""
    bounds, start = [], 0
    for columns in groups:
        bounds.append((start, start + len(columns)))
        start += len(columns)
    return [*bounds, (start, None)]


# Today's insight cards: what they show of the insight (its sentence from the rule and the evidence, the score), the
# whole rule (a few small columns), the partner's name and tier.
_TODAY_INSIGHT = _fields(Insight, {"id", "rule_id", "partner_id", "subject", "period_start", "evidence", "score",
                                   "state", "suppressed_until"})
_TODAY_RULE = _fields(Rule, {field.attname for field in Rule._meta.concrete_fields})
_TODAY_PARTNER = _fields(Partner, {"id", "code", "name", "tier_id", "assigned_to_id"})
_TODAY_TIER = _fields(Tier, {field.attname for field in Tier._meta.concrete_fields})
_TODAY_SLICES = _slices(_TODAY_INSIGHT, _TODAY_RULE, _TODAY_PARTNER, _TODAY_TIER)
_TODAY_COLUMNS = ", ".join(
    f"{alias}.{column}"
    for alias, columns in (("i", _TODAY_INSIGHT), ("r", _TODAY_RULE), ("p", _TODAY_PARTNER), ("t", _TODAY_TIER))
    for column in columns
)
# ``shown_now``: open, not suppressed (or no longer), of an enabled rule; in the scope (``{scope}``: its SQL).
_TODAY_SHOWN = (
    f"i.state = '{Insight.State.OPEN.value}' AND (i.suppressed_until IS NULL OR i.suppressed_until <= %s)"
    " AND r.enabled AND i.partner_id IN ({scope})"
)
_TODAY_TOP_IDS = f"""
    i.id IN (SELECT i.id FROM {Insight._meta.db_table} i JOIN {Rule._meta.db_table} r ON r.id = i.rule_id
             WHERE {{conditions}} ORDER BY i.score + 0 DESC, i.id DESC LIMIT %s)
"""  # noqa: S608 (model metadata only)
_TODAY_SQL = f"""
    SELECT {_TODAY_COLUMNS}
    FROM {Insight._meta.db_table} i JOIN {Rule._meta.db_table} r ON r.id = i.rule_id
    JOIN {Partner._meta.db_table} p ON p.id = i.partner_id LEFT JOIN {Tier._meta.db_table} t ON t.id = p.tier_id
    WHERE {{where}} {{order}}
"""  # noqa: S608 (model metadata and constants only; values are parameters)


@dataclass
class RuleRates:
    rule: Rule
    total: int
    open: int
    accepted: int
    dismissed: int
    snoozed: int
    resolved: int

    @property
    def acceptance(self) -> float | None:
        """Accepted, as a % of all the rule's insights (None when it has produced none)."""
        return 100 * self.accepted / self.total if self.total else None

    @property
    def dismissal(self) -> float | None:
        return 100 * self.dismissed / self.total if self.total else None


def rule_rates() -> list[RuleRates]:
    """Per rule (all rules, enabled or not): how many insights it produced and how reps reacted — open, accepted,
    dismissed, snoozed, resolved — with acceptance and dismissal rates over all its insights. One aggregate query
    (the (rule, state) index)."""
    states = Insight.State
    rules = Rule.objects.annotate(
        n_total=Count("insights"),
        **{f"n_{state}": Count("insights", filter=Q(insights__state=state)) for state in states.values},
    ).order_by("code")
    return [
        RuleRates(
            rule=rule, total=rule.n_total, open=rule.n_open, accepted=rule.n_accepted, dismissed=rule.n_dismissed,
            snoozed=rule.n_snoozed, resolved=rule.n_resolved,
        )
        for rule in rules
    ]
