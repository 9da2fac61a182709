"""Evaluation of the insight rules: one set-based SQL statement per rule (find, upsert, resolve what went away).

``insights_evaluate(now=…, partner_ids=…)`` runs every rule (nightly: all partners; after a change: one partner), one
statement per rule (``_evaluate``), in three parts sharing one snapshot:

- **Find.** The rule's finder selects, for every partner the rule looks at, the rows whose cause is there now, with
  their evidence (``jsonb_build_object``), score and fingerprint (a MATERIALIZED CTE, computed once).
- **Upsert what is there.** ``INSERT INTO insights_insight … ON CONFLICT (fingerprint) DO UPDATE``: an existing row
  gets the fresh evidence and score; its state: ``resolved`` → ``open`` (the cause is back), ``dismissed`` → ``open``
  only once its ``suppressed_until`` has passed, ``snoozed`` → ``open`` only once its ``snoozed_until`` has come,
  ``accepted`` and the rest stay. A row is rewritten only when its evidence, score or state changes (then
  ``updated_at`` and ``last_seen_at`` move): a second run with nothing changed writes nothing at all. So
  ``last_seen_at`` is when an evaluation last wrote the row (found it new, changed or back), not every sighting.
- **Resolve what went away.** ``UPDATE … SET state = 'resolved'`` on the rule's *open* insights (of the evaluated
  partners) whose fingerprint was not found: the cause is gone. A disabled rule, or one whose parameter was
  deactivated, finds nothing, so its open insights resolve — no error.
- No Python loop over partners: memory stays flat; the statements only read the columns they need.
- Which partners: ACTIVE, with an assignee (someone must act), of the rule's tiers (none selected = every tier), and
  with ``partner_ids`` only those (every statement carries the filter, so one partner's re-evaluation reads one
  partner's rows).
- Runs serialise on a PostgreSQL advisory lock (``prm.pg``, name ``insights.evaluate``) in one transaction.
- Evidence holds dates and figures, never day counts ("12 days ago", the share of the period gone and the pacing are
  computed by ``insights.sentences`` when shown), and scores move in coarse steps (whole weeks, 10 pacing points), so
  the next night rewrites only the rows whose cause really changed (a few %), not every row.
- Cost (devtools/bench_insights.py, 100k partners, the bench dataset): see docs/benchmarks.md (issue 12); one
  partner's run ~20 ms.

Fingerprints (unique; ``<partner>`` is the partner's id, dates ISO in the organisation's time zone):

====================  =============================================================  ==========================
rule                  fingerprint                                                    changes when
====================  =============================================================  ==========================
engagement_due        ``engagement_due:<partner>:<due date>``                        the partner is engaged
business_drop         ``business_drop:<partner>:<parameter code>:<period start>``    a new period is judged
target_at_risk        ``target_at_risk:<partner>:<parameter code>:<period start>``   a new period starts
no_next_engagement    ``no_next_engagement:<partner>:<last engaged date|never>``     the partner is engaged
inactivity_risk       ``inactivity_risk:<partner>:<last engaged date|never>``        the partner is engaged
lead_follow_up        ``lead_follow_up:<partner>:<oldest lead>:<its last touch date>``  that lead is touched
ticket_breach         ``ticket_breach:<partner>:<ticket>``                           (one per ticket)
====================  =============================================================  ==========================

so an accepted (or dismissed) insight stays accepted for *that* cause, and a new cause is a new insight.

Score (an integer; higher ranks first), the same shape for every rule, one SQL expression::

    score = rule.weight (0–100)
          + tier points: GREATEST(0, 40 − 10 × tier.rank)   (Platinum 30, Gold 20, Silver 10, no tier 0)
          + how far off, clamped to 0–50:
              engagement_due      days overdue in whole weeks (0, 7, 14 …; 0 while only due soon)
              business_drop       the larger drop % ÷ 2
              target_at_risk      (100 − pacing %) in steps of 10, ÷ 2 (0, 5, 10 … 50)
              no_next_engagement  days since the last engagement in whole weeks (never engaged: 50)
              inactivity_risk     0 (the rule's weight carries it)
              lead_follow_up      days the oldest lead waits beyond the rule's ``days``, in whole weeks
              ticket_breach       the ticket's priority: urgent 50, high 35, normal 20, low 10

Decisions:
- engagement_due: ``Partner.engagement_due_at`` (kept by partners/activities services) ≤ now + ``days``. Evidence:
  ``due_on`` and ``last_engaged`` (dates; the sentence says "overdue by 5 days" / "due in 2 days").
- business_drop: the last *full* period against the average of the ``periods`` full periods before it (a missing
  achievement row is 0, as everywhere in business), or against the same period a year earlier when that row exists;
  fires when either falls by ≥ ``threshold_percent`` from a baseline above 0 and ≥ the rule's ``minimum`` (the
  average for the first comparison, last year's value for the second), compared in the parameter's own unit (the
  rule looks at every active parameter when it has none: the default 3 means 3 leads / conversions / trainings, and
  3 of a currency).
- target_at_risk: the current period (organisation's time zone, ``business.periods.org_today``): generated so far <
  target × elapsed share × ``threshold_percent`` %, the elapsed share in whole days gone (so the evidence changes
  once a day; nothing is expected on a period's first day). Only targets above 0 and ≥ the rule's ``minimum`` (in
  the parameter's unit). Evidence: the target, generated and the period's dates (the sentence computes the share gone
  and the expected value for the day it is shown), so a row changes only when its figures do.
- no_next_engagement: no *planned scheduled* activity starting after now (read from activities, not from the
  denormalised ``next_engagement_at``, which can lag behind a passed planned meeting).
- inactivity_risk: the inactivity rules themselves (``business.services.inactivity_rules``, applied to the partners
  ``partners.services.rule_governed`` lets them change): the engagement rules evaluated at now + ``days`` (would be
  tagged within ``days`` if nobody engages), the business rule as at now (would be tagged at the next run: evaluating
  it ``days`` ahead would judge a period still in progress). Only partners that are still Active.
- lead_follow_up: an open lead (not won, not lost) of the partner whose last touch — its creation, an activity on it
  created or completed, a stage change — is older than ``days``, and with no planned activity on it ahead. One
  insight per partner (subject ``leads``): the lead waiting longest (evidence ``lead_id``, read by the Accept flow)
  and how many are waiting (``untouched``).
- ticket_breach (issue 13): an open service ticket of one of the partner's customers, running (new or open: a
  ticket waiting on the customer or on hold has its clock stopped, service.sla) and past its resolution due date.
  One insight per ticket (subject ``ticket:<id>``), on the partner that brought the customer; evidence: the ticket,
  its priority, the customer and its due date. Resolved as soon as the ticket is resolved, paused or re-prioritised
  to a later due date — at the partner's next evaluation: right after the ticket changes (insights.signals
  watches tickets), or nightly.
- tier_review (rule 7) is ``insights.tier_review.evaluate_tier_review``'s (called under the same lock when it can be
  imported); its open insights not among the fingerprints it returns resolve here.
"""

import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone

from business import periods
from business.models import Achievement, InactivityRule, Parameter, Target
from business.services import inactivity_rules
from insights.models import Insight, Rule
from leads.models import Customer, Lead
from partners.models import Partner, Tier
from partners.services import rule_governed
from prm import pg
from service.models import Ticket

EVALUATE_LOCK = "insights.evaluate"  # advisory lock of an evaluation run (prm.pg); a part's: "insights.evaluate:<from>"
MAX_ID = 2**63 - 1  # the end of the last range of a split run
ANALYZE_AFTER_ROWS = 10_000  # insights_statistics_refresh: a run that wrote this many rows refreshes the statistics

_INSIGHT = Insight._meta.db_table
_PARTNER = Partner._meta.db_table
_TIER = Tier._meta.db_table
_ACHIEVEMENT = Achievement._meta.db_table
_TARGET = Target._meta.db_table
_LEAD = Lead._meta.db_table
_ACTIVITY = "activities_activity"
_TICKET = Ticket._meta.db_table
_CUSTOMER = Customer._meta.db_table
TICKET_PRIORITY_POINTS = {"urgent": 50, "high": 35, "normal": 20, "low": 10}

WORK_MEM = "256MB"
TIER_POINTS = "GREATEST(0, 40 - 10 * COALESCE(t.rank, 4))"


@dataclass(frozen=True)
class _Run:
    now: datetime
    today: date  # the organisation's date at ``now``
    partner_ids: list[int] | None
    id_range: tuple[int, int] | None = None  # [from, to): one part of a split nightly run


def insights_evaluate(
    *, now: datetime | None = None, partner_ids=None, id_range: tuple[int, int] | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, dict[str, int]]:
    """Evaluate every rule (all partners, only ``partner_ids``, or the partners whose id is in ``id_range`` = (from,
    to), to excluded: one part of the nightly run, see ``evaluation_ranges``) in one transaction.

    Locks: a run over ``id_range`` holds the evaluation lock *shared* (the other parts run at the same time: their
    partners, and so their insights, are disjoint) and its own part's lock (a part queued twice runs once at a time);
    any other run holds the evaluation lock exclusively (one partner's re-evaluation waits for the parts, and the
    other way round).

    Returns per rule code ``{"seen": insights whose cause is there, "written": rows inserted or changed, "resolved":
    open insights whose cause is gone}``; a rule that was not evaluated (tier review without its module) is absent.
    ``timings`` (the benchmark's): filled with each rule's seconds.
    """
    if partner_ids is not None and id_range is not None:
        raise TypeError("pass partner_ids or id_range, not both")
    now = now or timezone.now()
    ids = None if partner_ids is None else sorted({int(pk) for pk in partner_ids})
    span = None if id_range is None else (int(id_range[0]), int(id_range[1]))
    run = _Run(now=now, today=periods.org_today(now), partner_ids=ids, id_range=span)
    counts = {}
    with transaction.atomic():
        pg.advisory_xact_lock(EVALUATE_LOCK, shared=span is not None)
        if span is not None:
            pg.advisory_xact_lock(f"{EVALUATE_LOCK}:{span[0]}")
        # Several statements pass jit_above_cost on a large table; compiling costs more than it saves (as in metrics).
        # work_mem: business_drop's GROUP BY over the achievements of a few periods of every partner stays in memory.
        pg.set_local(jit="off", work_mem=WORK_MEM)
        rules = list(Rule.objects.select_related("parameter").prefetch_related("tiers"))
        with connection.cursor() as cursor:
            for rule in rules:
                started = time.perf_counter()
                if rule.code == Rule.Code.TIER_REVIEW:
                    result = _tier_review(rule, run, cursor)
                else:
                    statement = FINDERS[rule.code](rule, run) if rule.enabled and rule.code in FINDERS else None
                    cursor.execute(*(_evaluate(rule, run, *statement) if statement else _resolve_all(rule, run)))
                    seen, written, resolved = cursor.fetchone()
                    result = {"seen": seen, "written": written, "resolved": resolved}
                if result is not None:
                    counts[rule.code] = result
                if timings is not None:
                    timings[rule.code] = time.perf_counter() - started
    return counts


def insights_statistics_refresh(*, written: int) -> bool:
    """``ANALYZE`` the insights table after a run that wrote ``ANALYZE_AFTER_ROWS`` rows or more (True when it did),
    so the next run and the pages plan with its real size — a first run takes it from empty to ~400k rows at 100k
    partners, and a server without autovacuum (or before autovacuum gets to it) would go on planning for an empty
    table. The nightly chord calls it once, after every part; a whole run (``manage.py evaluate_insights``) too."""
    if written < ANALYZE_AFTER_ROWS:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {_INSIGHT}")  # noqa: S608 (the model's table)
    return True


def evaluation_ranges(*, parts: int) -> list[tuple[int, int]]:
    """Split every partner id into ``parts`` ranges [from, to) holding about as many partners each (one query:
    ``ntile`` over the primary key), for a nightly run split into parts (insights.tasks). The first range starts at 0
    and the last ends at the largest bigint, so a partner created meanwhile still falls in one."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN(id) FROM (SELECT id, ntile(%s) OVER (ORDER BY id) AS part FROM {_PARTNER}) s"  # noqa: S608
            " GROUP BY part ORDER BY 1", [max(1, parts)],
        )
        starts = [row[0] for row in cursor.fetchall()][1:]
    bounds = [0, *starts, MAX_ID]
    return list(zip(bounds, bounds[1:], strict=False))


def _scope(column: str, run: _Run) -> str:
    """`` AND <column> …``: only the evaluated partners' rows (named parameters ``_scope_params``), or nothing."""
    if run.partner_ids is not None:
        return f" AND {column} = ANY(%(partner_ids)s)"
    if run.id_range is not None:
        return f" AND {column} >= %(id_from)s AND {column} < %(id_to)s"
    return ""


def _scope_params(run: _Run) -> dict:
    if run.partner_ids is not None:
        return {"partner_ids": run.partner_ids}
    if run.id_range is not None:
        return {"id_from": run.id_range[0], "id_to": run.id_range[1]}
    return {}


# --- The statement every rule shares ----------------------------------------------------------------------------------

# An existing insight found again: resolved → open (the cause is back); dismissed → open once its suppression has
# passed; snoozed → open once its date has come; otherwise (open, accepted, …) as it is.
_NEW_STATE = (
    "CASE WHEN i.state = 'resolved' THEN 'open'"
    " WHEN i.state = 'dismissed' AND i.suppressed_until <= %s THEN 'open'"
    " WHEN i.state = 'snoozed' AND (i.snoozed_until IS NULL OR i.snoozed_until <= %s) THEN 'open'"
    " ELSE i.state END"
)


def _evaluate(rule: Rule, run: _Run, finder: str, params: list) -> tuple[str, list]:
    """One statement for one rule, returning (found, written, resolved):

    - ``found``: the finder's rows (partner_id, subject, period_start, fingerprint, evidence, score), materialised once;
    - ``up``: INSERT … ON CONFLICT (fingerprint) DO UPDATE, in the fingerprint's order (the unique index's inserts
      walk it in order); an existing row is rewritten only when its evidence, score or state changes — a re-run that
      finds the same writes nothing (no dead tuples, no index churn); rows found exactly as stored (open or accepted)
      are left out before the INSERT, as ON CONFLICT would still lock each (a write per row);
    - ``gone``: the rule's open insights (of the evaluated partners) whose fingerprint was not found: resolved.
      ``up`` and ``gone`` touch disjoint rows (found / not found), so one snapshot serves both.
    """
    partner_filter, partner_params = _named(_scope("i.partner_id", run), **_scope_params(run))
    same_scope, same_params = _named(_scope("s.partner_id", run), **_scope_params(run))
    # One partner: "rule_id + 0" keeps the planner on insight_partner_state_idx (a few rows) instead of walking
    # insight_rule_state_idx through every open insight of the rule (seen at 100k partners right after a bulk run,
    # before autovacuum had analysed the table: 370 ms instead of 20).
    rule_match = "i.rule_id = %s" if run.partner_ids is None else "i.rule_id + 0 = %s"
    sql = (
        f"WITH found AS MATERIALIZED ({finder}),"  # noqa: S608 (table names from the models, values as parameters)
        f" up AS (INSERT INTO {_INSIGHT} AS i (rule_id, partner_id, subject, period_start, fingerprint, evidence,"
        " score, state, created_at, updated_at, last_seen_at, dismiss_reason)"
        " SELECT %s, f.partner_id, f.subject, f.period_start, f.fingerprint, f.evidence, f.score, 'open', %s, %s, %s, ''"
        # Rows found exactly as stored (same evidence and score, open or accepted: nothing to change) are left out
        # before the INSERT: ON CONFLICT would lock (and so write) each of them even when its WHERE skips the update.
        f" FROM found f WHERE NOT EXISTS (SELECT 1 FROM {_INSIGHT} s WHERE s.fingerprint = f.fingerprint"
        " AND s.state IN ('open', 'accepted') AND s.evidence = f.evidence AND s.score = f.score"
        # The same rule and partners only (a fingerprint names both, so nothing else can match): the anti-join reads
        # this rule's insights of the evaluated partners, not the whole table once per rule and part.
        f" AND {rule_match.replace('i.', 's.')}{same_scope})"
        " ORDER BY f.fingerprint"
        " ON CONFLICT (fingerprint) DO UPDATE SET evidence = EXCLUDED.evidence, score = EXCLUDED.score,"
        f" last_seen_at = EXCLUDED.last_seen_at, updated_at = EXCLUDED.updated_at, state = {_NEW_STATE},"
        f" resolved_at = CASE WHEN ({_NEW_STATE}) = 'open' THEN NULL ELSE i.resolved_at END"
        f" WHERE i.evidence IS DISTINCT FROM EXCLUDED.evidence OR i.score <> EXCLUDED.score OR i.state <> ({_NEW_STATE})"
        " RETURNING 1),"
        f" gone AS (UPDATE {_INSIGHT} i SET state = 'resolved', resolved_at = %s, updated_at = %s"
        f" WHERE {rule_match} AND i.state = 'open'{partner_filter}"
        # NOT IN over the found fingerprints (never NULL), not NOT EXISTS: PostgreSQL hashes the list once whatever it
        # believes of insights_insight; with NOT EXISTS, statistics gone stale by a big first run (the table "empty")
        # made it pick a nested loop over the CTE for every insight: 6–10 minutes instead of a second.
        " AND i.fingerprint NOT IN (SELECT f.fingerprint FROM found f) RETURNING 1)"
        " SELECT (SELECT COUNT(*) FROM found)::int, (SELECT COUNT(*) FROM up)::int, (SELECT COUNT(*) FROM gone)::int"
    )
    state = [run.now, run.today]
    return sql, [*params, rule.pk, run.now, run.now, run.now, rule.pk, *same_params, *state, *state, *state,
                 run.now, run.now, rule.pk, *partner_params]


def _resolve_all(rule: Rule, run: _Run, keep: list[str] | None = None) -> tuple[str, list]:
    """A rule that finds nothing (disabled, its parameter deactivated): all its open insights (of the evaluated
    partners) resolve; ``keep``: fingerprints that were found. Returns (0, 0, resolved) like ``_evaluate``."""
    rule_match = "i.rule_id = %s" if run.partner_ids is None else "i.rule_id + 0 = %s"  # as in _evaluate
    sql = (
        f"WITH gone AS (UPDATE {_INSIGHT} i SET state = 'resolved', resolved_at = %s, updated_at = %s"  # noqa: S608
        f" WHERE {rule_match} AND i.state = 'open'"
    )
    scope, scope_params = _named(_scope("i.partner_id", run), **_scope_params(run))
    sql += scope
    params = [run.now, run.now, rule.pk, *scope_params]
    if keep:
        sql += " AND i.fingerprint <> ALL(%s)"
        params.append(list(keep))
    sql += " RETURNING 1) SELECT 0, 0, (SELECT COUNT(*) FROM gone)::int"
    return sql, params


def _tier_review(rule: Rule, run: _Run, cursor) -> dict[str, int] | None:
    """Rule 7 lives in insights.tier_review (it upserts; the fingerprints it returns are what it found); called only
    when it can be imported. None: not evaluated (its insights are left alone)."""
    try:
        from insights.tier_review import evaluate_tier_review  # noqa: PLC0415 (written separately; optional)
    except ImportError:
        return None
    seen = sorted(evaluate_tier_review(now=run.now, partner_ids=run.partner_ids, id_range=run.id_range)
                  ) if rule.enabled else []
    cursor.execute(*_resolve_all(rule, run, keep=seen))
    return {"seen": len(seen), "written": len(seen), "resolved": cursor.fetchone()[2]}


# --- Pieces of the finders -----------------------------------------------------------------------------------------

_NAMED = re.compile(r"%\((\w+)\)s")


def _named(sql: str, **params) -> tuple[str, list]:
    """``%(name)s`` placeholders → positional ``%s`` with the list of values, so that a finder reads with names and can
    still be embedded in a positional statement (and next to ORM-compiled SQL)."""
    values = []

    def replace(match):
        values.append(params[match.group(1)])
        return "%s"

    return _NAMED.sub(replace, sql), values


def _partners_where(rule: Rule, run: _Run) -> tuple[str, dict]:
    """The conditions on ``p`` (the partner) every rule shares: active, assigned, the rule's tiers, the evaluated
    partners (``partner_ids`` or ``id_range``; its parameters are in the returned dict for the finders' own
    ``_scope`` on other tables)."""
    sql = "p.status = 'active' AND p.assigned_to_id IS NOT NULL"
    params = _scope_params(run)
    tier_ids = [tier.pk for tier in rule.tiers.all()]
    if tier_ids:
        sql += " AND p.tier_id = ANY(%(tier_ids)s)"
        params["tier_ids"] = tier_ids
    return sql + _scope("p.id", run), params


def _score(magnitude: str) -> str:
    return f"(%(weight)s + {TIER_POINTS} + LEAST(50, GREATEST(0, ({magnitude})))::int)"


def _weeks(days: str) -> str:
    """A day count rounded down to whole weeks (in days): the score moves once a week, not every night."""
    return f"((({days}) / 7) * 7)"


def _local_date(column: str) -> str:
    return f"({column} AT TIME ZONE %(tz)s)::date"


def _iso(expression: str) -> str:
    return f"to_char({expression}, 'YYYY-MM-DD')"


def _base_params(rule: Rule, run: _Run, where_params: dict) -> dict:
    return {"weight": rule.weight, "now": run.now, "today": run.today, "tz": settings.TIME_ZONE, **where_params}


def _parameters(rule: Rule) -> list[Parameter]:
    """The rule's parameter (nothing when it was deactivated), or every active parameter."""
    if rule.parameter_id is not None:
        return [rule.parameter] if rule.parameter.is_active else []
    return list(Parameter.objects.filter(is_active=True).order_by("order", "id"))


def _threshold(rule: Rule, default: str) -> Decimal:
    return Decimal(rule.threshold_percent if rule.threshold_percent is not None else default)


# --- Rule 1: engagement overdue or due soon ----------------------------------------------------------------------------


def _engagement_due(rule: Rule, run: _Run):
    where, where_params = _partners_where(rule, run)
    due_on = _local_date("p.engagement_due_at")
    last = _local_date("p.last_engaged_at")
    sql = (
        f"SELECT p.id AS partner_id, '' AS subject, {due_on} AS period_start,"  # noqa: S608
        f" 'engagement_due:' || p.id || ':' || {_iso(due_on)} AS fingerprint,"
        " jsonb_build_object('tier', t.name, 'every_days', t.engage_every_days,"
        f" 'last_engaged', {_iso(last)}, 'due_on', {_iso(due_on)}) AS evidence,"
        f" {_score(_weeks('%(today)s::date - ' + due_on))} AS score"
        f" FROM {_PARTNER} p JOIN {_TIER} t ON t.id = p.tier_id"
        f" WHERE {where} AND p.engagement_due_at <= %(horizon)s"
    )
    params = _base_params(rule, run, where_params)
    params["horizon"] = run.now + timedelta(days=rule.days or 0)
    return _named(sql, **params)


# --- Rule 2: business drop ------------------------------------------------------------------------------------------


def _business_drop(rule: Rule, run: _Run):
    parameters = _parameters(rule)
    if not parameters:
        return None
    count = rule.periods or 3
    rows = {k: [] for k in ("ids", "codes", "names", "units", "freqs", "lasts", "firsts", "years", "labels", "ylabels")}
    for parameter in parameters:
        frequency = parameter.frequency
        last = periods.shift(periods.period_start(run.today, frequency), frequency, -1)
        year_ago = periods.shift(last, frequency, -(4 if frequency == "quarterly" else 12))
        for key, value in (
            ("ids", parameter.pk), ("codes", parameter.code), ("names", parameter.name), ("units", parameter.unit),
            ("freqs", frequency), ("lasts", last), ("firsts", periods.shift(last, frequency, -count)),
            ("years", year_ago), ("labels", periods.label(last, frequency)),
            ("ylabels", periods.label(year_ago, frequency)),
        ):
            rows[key].append(value)
    where, where_params = _partners_where(rule, run)
    achievement_filter = _scope("a.partner_id", run)
    drop = "(1 - g.value / NULLIF(g.baseline, 0)) * 100"
    year_drop = "(1 - g.value / NULLIF(g.last_year, 0)) * 100"
    sql = (
        # x, MATERIALIZED: the parameter's part of the evidence and fingerprint built once per parameter (as rule 3)
        "WITH x AS MATERIALIZED (SELECT x.*, jsonb_build_object('parameter', x.code, 'parameter_name', x.name,"  # noqa: S608
        " 'unit', x.unit, 'frequency', x.frequency, 'period', x.label, 'baseline_periods', %(count)s) AS head,"
        f" ':' || x.code || ':' || {_iso('x.last')} AS fp"
        " FROM unnest(%(ids)s::bigint[], %(codes)s::text[], %(names)s::text[], %(units)s::text[],"
        " %(freqs)s::text[], %(lasts)s::date[], %(firsts)s::date[], %(years)s::date[], %(labels)s::text[],"
        " %(ylabels)s::text[]) AS x (id, code, name, unit, frequency, last, first, year_ago, label, year_label)),"
        " g AS (SELECT a.partner_id, x.id AS parameter_id,"
        " COALESCE(SUM(a.value) FILTER (WHERE a.period_start = x.last), 0) AS value,"
        " COALESCE(SUM(a.value) FILTER (WHERE a.period_start >= x.first AND a.period_start < x.last), 0)"
        " / %(count)s AS baseline,"
        " MAX(a.value) FILTER (WHERE a.period_start = x.year_ago) AS last_year"
        # The periods read: the baseline through the last period, and the same period a year ago — two ranges of the
        # (parameter, period, partner) index read index-only, not an OR that only a scan of every achievement answers.
        " FROM x JOIN LATERAL (SELECT a.partner_id, a.period_start, a.value"
        f" FROM {_ACHIEVEMENT} a WHERE a.parameter_id = x.id AND a.period_start BETWEEN x.first AND x.last"
        f"{achievement_filter} UNION ALL SELECT a.partner_id, a.period_start, a.value FROM {_ACHIEVEMENT} a"
        " WHERE a.parameter_id = x.id AND a.period_start = x.year_ago AND x.year_ago < x.first"
        f"{achievement_filter}) a ON true GROUP BY a.partner_id, x.id)"
        " SELECT p.id AS partner_id, x.code AS subject, x.last AS period_start,"
        " 'business_drop:' || p.id || x.fp AS fingerprint,"
        " x.head || jsonb_build_object('value', ROUND(g.value, 2), 'baseline', ROUND(g.baseline, 2),"
        f" 'drop_percent', ROUND({drop}, 1))"
        " || CASE WHEN g.last_year IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('same_period_last_year',"
        " jsonb_build_object('period', x.year_label, 'value', ROUND(g.last_year, 2),"
        f" 'drop_percent', ROUND({year_drop}, 1))) END AS evidence,"
        f" {_score(f'GREATEST(COALESCE({drop}, 0), COALESCE({year_drop}, 0)) / 2')} AS score"
        f" FROM g JOIN x ON x.id = g.parameter_id JOIN {_PARTNER} p ON p.id = g.partner_id"
        f" LEFT JOIN {_TIER} t ON t.id = p.tier_id"
        f" WHERE {where} AND ((g.baseline > 0 AND g.baseline >= %(minimum)s AND g.value <= g.baseline * %(keep)s)"
        " OR (g.last_year > 0 AND g.last_year >= %(minimum)s AND g.value <= g.last_year * %(keep)s))"
    )
    params = _base_params(rule, run, where_params)
    params.update(rows, count=count, keep=1 - _threshold(rule, "30") / 100, minimum=rule.minimum or 0)
    return _named(sql, **params)


# --- Rule 3: target at risk by pacing ---------------------------------------------------------------------------------


def _target_at_risk(rule: Rule, run: _Run):
    parameters = _parameters(rule)
    if not parameters:
        return None
    rows = {k: [] for k in ("ids", "codes", "names", "units", "freqs", "currents", "ends", "shares", "labels")}
    for parameter in parameters:
        current = periods.period_start(run.today, parameter.frequency)
        # Whole days gone (the organisation's dates): on a period's first day nothing is expected yet. The share only
        # decides who is behind; the evidence keeps the figures and the period's dates (the sentence computes the
        # share and the pacing for the day it is shown), so a row is rewritten only when its figures move.
        end = periods.period_end(current, parameter.frequency)
        length = (end - current).days
        share = (Decimal((run.today - current).days) / length).quantize(Decimal("0.000001"))
        for key, value in (
            ("ids", parameter.pk), ("codes", parameter.code), ("names", parameter.name), ("units", parameter.unit),
            ("freqs", parameter.frequency), ("currents", current), ("ends", end), ("shares", share),
            ("labels", periods.label(current, parameter.frequency)),
        ):
            rows[key].append(value)
    where, where_params = _partners_where(rule, run)
    target_filter = _scope("tg.partner_id", run)
    generated = "COALESCE(a.value, 0)"
    expected = "(tg.value * x.share)"
    pacing = f"({generated} / NULLIF({expected}, 0) * 100)"
    sql = (
        # x, MATERIALIZED: the parameter's part of the evidence and of the fingerprint is built once per parameter
        # (not once per row: a pulled-up subquery would rebuild it for each of ~200k rows, ~0.5 s at 100k partners).
        "WITH x AS MATERIALIZED (SELECT x.*,"  # noqa: S608
        " jsonb_build_object('parameter', x.code, 'parameter_name', x.name, 'unit', x.unit, 'period', x.label,"
        f" 'frequency', x.frequency, 'period_start', {_iso('x.current')}, 'period_end', {_iso('x.period_end')})"
        f" AS head, ':' || x.code || ':' || {_iso('x.current')} AS fp"
        " FROM unnest(%(ids)s::bigint[], %(codes)s::text[], %(names)s::text[], %(units)s::text[],"
        " %(freqs)s::text[], %(currents)s::date[], %(ends)s::date[], %(shares)s::numeric[], %(labels)s::text[])"
        " AS x (id, code, name, unit, frequency, current, period_end, share, label))"
        " SELECT p.id AS partner_id, x.code AS subject, x.current AS period_start,"
        " 'target_at_risk:' || p.id || x.fp AS fingerprint,"
        f" x.head || jsonb_build_object('target', ROUND(tg.value, 2), 'generated', ROUND({generated}, 2))"
        " AS evidence,"
        # how far behind, in steps of 10 pacing points (5 score points): moves rarely, not every night
        f" {_score(f'FLOOR((100 - COALESCE({pacing}, 100)) / 10) * 5')} AS score"
        f" FROM x JOIN {_TARGET} tg ON tg.parameter_id = x.id AND tg.period_start = x.current AND tg.value > 0"
        " AND tg.value >= %(minimum)s"
        f"{target_filter}"
        f" LEFT JOIN {_ACHIEVEMENT} a ON a.partner_id = tg.partner_id AND a.parameter_id = tg.parameter_id"
        " AND a.period_start = tg.period_start"
        f" JOIN {_PARTNER} p ON p.id = tg.partner_id LEFT JOIN {_TIER} t ON t.id = p.tier_id"
        f" WHERE {where} AND x.share > 0 AND {generated} < {expected} * %(threshold)s / 100"
    )
    params = _base_params(rule, run, where_params)
    params.update(rows, threshold=_threshold(rule, "80"), minimum=rule.minimum or 0)
    return _named(sql, **params)


# --- Rule 4: no next engagement planned -----------------------------------------------------------------------------


def _no_next_engagement(rule: Rule, run: _Run):
    where, where_params = _partners_where(rule, run)
    last = _local_date("p.last_engaged_at")
    sql = (
        f"SELECT p.id AS partner_id, '' AS subject, NULL::date AS period_start,"  # noqa: S608
        f" 'no_next_engagement:' || p.id || ':' || COALESCE({_iso(last)}, 'never') AS fingerprint,"
        f" jsonb_build_object('tier', t.name, 'last_engaged', {_iso(last)}) AS evidence,"
        f" {_score('COALESCE(' + _weeks(f'%(today)s::date - {last}') + ', 50)')} AS score"
        f" FROM {_PARTNER} p LEFT JOIN {_TIER} t ON t.id = p.tier_id"
        f" WHERE {where} AND NOT EXISTS (SELECT 1 FROM {_ACTIVITY} a WHERE a.partner_id = p.id"
        " AND a.status = 'planned' AND a.mode = 'scheduled' AND a.start_at > %(now)s)"
    )
    return _named(sql, **_base_params(rule, run, where_params))


# --- Rule 5: about to be tagged inactive ----------------------------------------------------------------------------


def _inactivity_risk(rule: Rule, run: _Run):
    """The inactivity rules' own ORM conditions (business.services.inactivity_rules; partners.services.rule_governed),
    compiled by the ORM into the finder: engagement rules as at now + ``days``, the business rule as at now."""
    settings_row = InactivityRule.load()
    rules_now = inactivity_rules(now=run.now)
    rules_ahead = inactivity_rules(now=run.now + timedelta(days=rule.days or 0))
    engagement_count = Tier.objects.count() if settings_row.engagement_enabled else 0
    if not rules_now or len(rules_now) != len(rules_ahead):
        return None
    # Breaks: the engagement rules (listed first, one per tier) looking ahead; the business rule as at the next run.
    # Reason: the business rule's as at now ("Revenue 0 USD in Oct 2026 below minimum 1,000"); an engagement rule's
    # is "" — its "not engaged for 19 days (Gold: every 14)" counts days, so it is rendered from the evidence's dates
    # (``since``, the tier's ``every_days``) by insights.sentences, and the row is not rewritten every night.
    conditions = [(ahead.breaks, Value("")) if n < engagement_count else (now.breaks, now.reason)
                  for n, (now, ahead) in enumerate(zip(rules_now, rules_ahead, strict=True))]
    breaks_any = Q()
    for breaks, _reason in conditions:
        breaks_any |= breaks
    partners = Partner.objects.filter(rule_governed(), breaks_any, status=Partner.Status.ACTIVE,
                                      assigned_to__isnull=False)
    tier_ids = [tier.pk for tier in rule.tiers.all()]
    if tier_ids:
        partners = partners.filter(tier_id__in=tier_ids)
    if run.partner_ids is not None:
        partners = partners.filter(pk__in=run.partner_ids)
    if run.id_range is not None:
        partners = partners.filter(pk__gte=run.id_range[0], pk__lt=run.id_range[1])
    reason = Case(*[When(breaks, then=why) for breaks, why in conditions], default=Value(""), output_field=CharField())
    inner, inner_params = (
        partners.order_by().annotate(why=reason)
        .values_list("pk", "why", "tier_id", "last_engaged_at", "created_at")
        .query.sql_with_params()
    )
    last = _local_date("q.last_engaged_at")
    since = _local_date("COALESCE(q.last_engaged_at, q.created_at)")
    head, head_params = _named(
        f"SELECT q.id AS partner_id, '' AS subject, NULL::date AS period_start,"  # noqa: S608
        f" 'inactivity_risk:' || q.id || ':' || COALESCE({_iso(last)}, 'never') AS fingerprint,"
        f" jsonb_build_object('reason', q.why, 'tier', t.name, 'every_days', t.engage_every_days,"
        f" 'within_days', %(days)s::int, 'last_engaged', {_iso(last)}, 'since', {_iso(since)}) AS evidence,"
        f" {_score('0')} AS score"
        " FROM (", tz=settings.TIME_ZONE, days=rule.days or 0, weight=rule.weight,
    )
    tail = f") q (id, why, tier_id, last_engaged_at, created_at) LEFT JOIN {_TIER} t ON t.id = q.tier_id"
    return head + inner + tail, [*head_params, *inner_params]


# --- Rule 6: lead without follow-up -----------------------------------------------------------------------------------


def _lead_follow_up(rule: Rule, run: _Run):
    where, where_params = _partners_where(rule, run)
    days = rule.days if rule.days is not None else 7
    open_stages = list(Lead.OPEN_STAGES)
    lead_filter = _scope("l.partner_id", run)
    stage_label = "CASE l.stage " + " ".join(
        f"WHEN '{value}' THEN '{label}'" for value, label in Lead.Stage.choices
    ) + " ELSE l.stage END"
    # The last touch is Lead.last_touched_at (kept by leads.services and activities.services: created, a stage
    # change, an activity about it created or done; a row written outside them has only created_at); its local date
    # is computed once per lead (OFFSET 0: not inlined into every expression that reads it).
    # One insight per partner: its oldest untouched lead (DISTINCT ON, the earliest last touch first) and how many
    # leads are untouched (a window over the same rows, counted before DISTINCT ON keeps one).
    sql = (
        "SELECT o.partner_id, 'leads' AS subject, NULL::date AS period_start,"  # noqa: S608
        f" 'lead_follow_up:' || o.partner_id || ':' || o.id || ':' || {_iso('o.touched_on')} AS fingerprint,"
        " jsonb_build_object('lead_id', o.id, 'lead', o.name, 'company', o.company, 'stage', o.stage,"
        f" 'stage_label', o.stage_label, 'touched_on', {_iso('o.touched_on')}, 'untouched', o.untouched)"
        f" AS evidence, {_score(_weeks('(%(today)s::date - o.touched_on) - %(days)s'))} AS score"
        " FROM (SELECT DISTINCT ON (l.partner_id) l.partner_id, p.tier_id, l.id, l.name, l.company, l.stage,"
        f" {stage_label} AS stage_label, d.touched_on, COUNT(*) OVER (PARTITION BY l.partner_id) AS untouched"
        f" FROM {_LEAD} l JOIN {_PARTNER} p ON p.id = l.partner_id"
        " CROSS JOIN LATERAL (SELECT COALESCE(l.last_touched_at, l.created_at) AS last_touch OFFSET 0) lt"
        f" CROSS JOIN LATERAL (SELECT {_local_date('lt.last_touch')} AS touched_on OFFSET 0) d"
        f" WHERE {where}{lead_filter} AND l.stage = ANY(%(open_stages)s) AND l.created_at < %(cutoff)s"
        " AND lt.last_touch < %(cutoff)s"
        f" AND NOT EXISTS (SELECT 1 FROM {_ACTIVITY} a WHERE a.lead_id = l.id AND a.status = 'planned'"
        " AND a.start_at > %(now)s)"
        " ORDER BY l.partner_id, lt.last_touch, l.id) o"
        f" LEFT JOIN {_TIER} t ON t.id = o.tier_id"
    )
    params = _base_params(rule, run, where_params)
    params.update(days=days, open_stages=open_stages, cutoff=run.now - timedelta(days=days))
    return _named(sql, **params)


# --- Rule 8: a customer's ticket past its resolution time (issue 13) ----------------------------------------------


def _ticket_breach(rule: Rule, run: _Run):
    where, where_params = _partners_where(rule, run)
    points = " ".join(f"WHEN '{value}' THEN {TICKET_PRIORITY_POINTS[value]}" for value in Ticket.Priority.values)
    labels = " ".join(f"WHEN '{value}' THEN '{label}'" for value, label in Ticket.Priority.choices)
    sql = (
        f"SELECT p.id AS partner_id, 'ticket:' || tk.id AS subject, NULL::date AS period_start,"  # noqa: S608
        " 'ticket_breach:' || p.id || ':' || tk.id AS fingerprint,"
        " jsonb_build_object('ticket_id', tk.id, 'subject', tk.subject, 'priority', tk.priority,"
        f" 'priority_label', CASE tk.priority {labels} ELSE tk.priority END, 'customer_id', c.id,"
        f" 'customer', c.name, 'partner', p.name, 'due_on', {_iso(_local_date('tk.resolution_due_at'))}) AS evidence,"
        f" {_score(f'CASE tk.priority {points} ELSE 0 END')} AS score"
        f" FROM {_TICKET} tk JOIN {_CUSTOMER} c ON c.id = tk.customer_id JOIN {_PARTNER} p ON p.id = c.partner_id"
        f" LEFT JOIN {_TIER} t ON t.id = p.tier_id"
        f" WHERE {where} AND tk.status = ANY(%(running)s) AND tk.resolution_due_at < %(now)s"
    )
    params = _base_params(rule, run, where_params)
    params["running"] = list(Ticket.RUNNING_STATUSES)
    return _named(sql, **params)


FINDERS = {
    Rule.Code.ENGAGEMENT_DUE: _engagement_due,
    Rule.Code.BUSINESS_DROP: _business_drop,
    Rule.Code.TARGET_AT_RISK: _target_at_risk,
    Rule.Code.NO_NEXT_ENGAGEMENT: _no_next_engagement,
    Rule.Code.INACTIVITY_RISK: _inactivity_risk,
    Rule.Code.LEAD_FOLLOW_UP: _lead_follow_up,
    Rule.Code.TICKET_BREACH: _ticket_breach,
}
