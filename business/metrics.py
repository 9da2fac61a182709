"""Generated values of the system parameters, computed from our own leads, set-based.

For the parameters that share a lead timestamp and one period, one statement (``_group_sql``): the period's leads
grouped by partner, full-joined with the period's achievement rows, keep only what differs; an ``INSERT … ON CONFLICT
DO UPDATE`` writes the new and changed values, and an ``UPDATE`` sets stale computed rows back to zero (a lead moved
to another partner or period). Unchanged rows are neither locked nor rewritten, so a re-run costs reading, not
writing. No Python loop over partners or leads: memory stays flat whatever their number.

Decisions:
- Period boundaries are local midnights in ``settings.TIME_ZONE``, computed in Python and passed as parameters.
- leads_generated = leads created in the period; leads_converted = leads whose ``converted_at`` is in the period;
  revenue = the sum of ``value`` of those converted leads (a lead converted a month after its creation counts for
  the month of conversion).
- Rows are written only for partners with leads in the period; a partner with no row has generated zero (the card,
  the trendline and the inactivity rules read a missing row of a computed parameter as 0). Memory and table size stay
  proportional to the activity, not to partners × periods.
- Only rows whose ``source`` is ``computed`` are ever written: an uploaded (or API) value wins, also for a system
  parameter — a manager who uploads a corrected revenue figure expects it to stick.
- Idempotent: a second run changes nothing (``updated_at`` moves only when the value changes).
- Two runs cannot write at once: each runs in one transaction that first takes a Postgres transaction-level advisory
  lock (``prm.pg``); the second waits (or, with ``wait=False``, skips).
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from business import periods
from business.models import Achievement, Parameter
from prm import pg

METRICS_LOCK = "business.metrics"  # advisory lock of the computation (prm.pg)

_LEADS = "leads_lead"
_TABLE = Achievement._meta.db_table

# Per system parameter: the lead timestamp that places a lead in a period, and the aggregate. Parameters that share
# the timestamp and the period are computed by one statement (one scan of the leads): a "parameter group".
FORMULAS = {
    Parameter.LEADS_GENERATED: ("created_at", "COUNT(*)"),
    Parameter.LEADS_CONVERTED: ("converted_at", "COUNT(*)"),
    Parameter.REVENUE: ("converted_at", "COALESCE(SUM(l.value), 0)"),
}
WORK_MEM = "64MB"  # Postgres, per sort/hash node: the GROUP BY and the join of a period of 1M partners stay in memory


@dataclass
class MetricsResult:
    written: dict = field(default_factory=dict)  # "revenue 2026-05" -> rows inserted or changed
    zeroed: dict = field(default_factory=dict)  # "revenue 2026-05" -> stale computed rows set to 0
    skipped: bool = False

    def merge(self, other):
        self.written.update(other.written)
        self.zeroed.update(other.zeroed)
        self.skipped = self.skipped or other.skipped
        return self

    def lines(self):
        if self.skipped:
            yield "another computation was running: skipped"
        for key, count in self.written.items():
            yield f"{key}: {count} rows written, {self.zeroed.get(key, 0)} set to zero"


def computed_parameters() -> list[Parameter]:
    """The system parameters this module knows how to compute (active ones only)."""
    return list(Parameter.objects.filter(code__in=FORMULAS, is_active=True).order_by("order", "id"))


def metrics_compute_period(*, day: date, wait: bool = True) -> "MetricsResult":
    """Compute every computed parameter for the period (its month or quarter) that contains ``day``."""
    return _compute([(p, periods.period_start(day, p.frequency)) for p in computed_parameters()], wait=wait)


def metrics_compute_recent(*, today: date | None = None, wait: bool = True) -> "MetricsResult":
    """The nightly job: the current and the previous period of every computed parameter, in one transaction."""
    today = today or periods.org_today()
    pairs = []
    for p in computed_parameters():
        current = periods.period_start(today, p.frequency)
        pairs += [(p, periods.shift(current, p.frequency, -1)), (p, current)]
    return _compute(pairs, wait=wait)


def metrics_compute_range(*, since: date, until: date | None = None, wait: bool = True) -> "MetricsResult":
    """Every period from the one containing ``since`` to the one containing ``until`` (default: today).

    One transaction per month, so a long backfill does not hold the lock or a snapshot for its whole length.
    """
    until = until or periods.org_today()
    parameters = computed_parameters()
    result, done = MetricsResult(), set()
    month = periods.period_start(since, "monthly")
    while month <= until:
        pairs = []
        for p in parameters:
            start = periods.period_start(month, p.frequency)
            if (p.pk, start) not in done:
                done.add((p.pk, start))
                pairs.append((p, start))
        result.merge(_compute(pairs, wait=wait))
        month = periods.shift(month, "monthly", 1)
    return result


def _compute(pairs, *, wait):
    result = MetricsResult()
    groups = {}  # (lead column, frequency, period start) -> [parameter, …]
    for parameter, start in pairs:
        groups.setdefault((FORMULAS[parameter.code][0], parameter.frequency, start), []).append(parameter)
    with transaction.atomic():
        if not pg.advisory_xact_lock(METRICS_LOCK, wait=wait):
            result.skipped = True
            return result
        # JIT: these statements cost enough to trigger it, and compiling them took longer than it saved (measured).
        pg.set_local(work_mem=WORK_MEM, jit="off")
        now = timezone.now()
        with connection.cursor() as cursor:
            for (column, frequency, start), parameters in groups.items():
                key = f"{', '.join(p.code for p in parameters)} {periods.label(start, frequency)}"
                cursor.execute(*_group_sql(column, parameters, start, now))
                result.written[key], result.zeroed[key] = cursor.fetchone()
    return result


def period_bounds(start: date, frequency: str) -> tuple[datetime, datetime]:
    """The period's [start, end) as aware datetimes at local midnight (settings.TIME_ZONE)."""
    return _local_midnight(start), _local_midnight(periods.period_end(start, frequency))


def _local_midnight(day: date):
    return timezone.make_aware(datetime(day.year, day.month, day.day), timezone.get_default_timezone())


def _group_sql(column, parameters, start, now):
    """The one statement (and its parameters) for the parameters sharing ``column`` and the period ``start``. It
    returns one row: (rows inserted or changed, rows set to zero).

    - ``diff``: the period's leads grouped by partner, one row per parameter, full-joined with the period's
      achievement rows of these parameters; it keeps only what must be written: new rows, changed computed values,
      and stale computed rows (the partner has no leads in the period any more) that are not zero yet. Unchanged and
      uploaded rows are neither locked nor rewritten, and staleness is one anti-join instead of a probe into the
      leads per achievement row.
    - ``written``: the new and changed rows, upserted in the unique key's order (the index inserts walk it in
      order); ON CONFLICT still lets an upload that commits meanwhile win.
    - ``zeroed``: the stale rows set to zero, by id. ``written`` and ``zeroed`` touch disjoint rows, so one statement
      (one snapshot) can do both.
    """
    begin, end = period_bounds(start, parameters[0].frequency)
    ids = [p.pk for p in parameters]
    aggregates = ", ".join(f"{FORMULAS[p.code][1]} AS v{n}" for n, p in enumerate(parameters))
    one_row_per_parameter = ", ".join(f"(CAST(%s AS BIGINT), CAST(g.v{n} AS NUMERIC))" for n in range(len(parameters)))
    sql = (
        "WITH diff AS MATERIALIZED ("  # noqa: S608 (names and formulas are constants)
        " SELECT COALESCE(c.partner_id, e.partner_id) AS partner_id, COALESCE(c.parameter_id, e.parameter_id)"
        " AS parameter_id, c.value, e.id, c.partner_id IS NULL AS stale"
        " FROM (SELECT g.partner_id, v.parameter_id, v.value FROM ("
        f"  SELECT l.partner_id, {aggregates} FROM {_LEADS} l"
        f"  WHERE l.partner_id IS NOT NULL AND l.{column} >= %s AND l.{column} < %s GROUP BY l.partner_id) g"
        f"  CROSS JOIN LATERAL (VALUES {one_row_per_parameter}) v (parameter_id, value)) c"
        " FULL JOIN (SELECT a.id, a.partner_id, a.parameter_id, a.value, a.source"
        f"  FROM {_TABLE} a WHERE a.parameter_id = ANY(%s) AND a.period_start = %s) e"
        " ON e.partner_id = c.partner_id AND e.parameter_id = c.parameter_id"
        " WHERE CASE WHEN e.id IS NULL THEN TRUE"  # new
        "  WHEN c.partner_id IS NULL THEN e.source = 'computed' AND e.value <> 0"  # stale
        "  ELSE e.source = 'computed' AND e.value <> c.value END"  # changed
        "), written AS ("
        f" INSERT INTO {_TABLE} (partner_id, parameter_id, period_start, value, source, upload_batch_id, updated_at)"
        " SELECT partner_id, parameter_id, %s, value, 'computed', NULL, %s FROM diff WHERE NOT stale"
        " ORDER BY partner_id, parameter_id"
        " ON CONFLICT (partner_id, parameter_id, period_start) DO UPDATE"
        " SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at"
        f" WHERE {_TABLE}.source = 'computed' AND {_TABLE}.value <> EXCLUDED.value"
        " RETURNING 1"
        "), zeroed AS ("
        f" UPDATE {_TABLE} a SET value = 0, updated_at = %s"
        # ids as an array: the planner cannot know how many rows are stale, and a join might hash the whole table
        " WHERE a.id = ANY(ARRAY(SELECT id FROM diff WHERE stale))"
        " AND a.source = 'computed' AND a.value <> 0"  # re-checked on a row that an upload changed meanwhile
        " RETURNING 1"
        ") SELECT (SELECT COUNT(*) FROM written)::int, (SELECT COUNT(*) FROM zeroed)::int"
    )
    return sql, [begin, end, *ids, ids, start, start, now, now]
