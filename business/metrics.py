"""Generated values of the system parameters, computed from our own leads, set-based.

For one parameter and one period, one ``INSERT … SELECT … GROUP BY partner … ON CONFLICT DO UPDATE`` writes every
partner's value, plus one ``UPDATE`` that sets stale computed rows back to zero (a lead moved to another partner or
period). No Python loop over partners or leads: memory stays flat whatever their number.

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
WORK_MEM = "64MB"  # Postgres: room for the GROUP BY hash of 100k partners without spilling to disk


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
    today = today or timezone.localdate()
    pairs = []
    for p in computed_parameters():
        current = periods.period_start(today, p.frequency)
        pairs += [(p, periods.shift(current, p.frequency, -1)), (p, current)]
    return _compute(pairs, wait=wait)


def metrics_compute_range(*, since: date, until: date | None = None, wait: bool = True) -> "MetricsResult":
    """Every period from the one containing ``since`` to the one containing ``until`` (default: today).

    One transaction per month, so a long backfill does not hold the lock or a snapshot for its whole length.
    """
    until = until or timezone.localdate()
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
        pg.set_local(work_mem=WORK_MEM)
        now = timezone.now()
        with connection.cursor() as cursor:
            for (column, frequency, start), parameters in groups.items():
                key = f"{', '.join(p.code for p in parameters)} {periods.label(start, frequency)}"
                result.written[key], result.zeroed[key] = _compute_group(cursor, column, parameters, start, now)
    return result


def period_bounds(start: date, frequency: str) -> tuple[datetime, datetime]:
    """The period's [start, end) as aware datetimes at local midnight (settings.TIME_ZONE)."""
    return _local_midnight(start), _local_midnight(periods.period_end(start, frequency))


def _local_midnight(day: date):
    return timezone.make_aware(datetime(day.year, day.month, day.day), timezone.get_default_timezone())


def _compute_group(cursor, column, parameters, start, now):
    """One INSERT … SELECT … GROUP BY … ON CONFLICT for the parameters sharing ``column`` and the period, then one
    UPDATE for stale rows. Returns (rows inserted or changed, rows set to zero)."""
    begin, end = period_bounds(start, parameters[0].frequency)
    period = start
    ids = [p.pk for p in parameters]
    aggregates = ", ".join(f"{FORMULAS[p.code][1]} AS v{n}" for n, p in enumerate(parameters))
    pick = " ".join(f"WHEN %s THEN g.v{n}" for n in range(len(parameters)))
    one_row_per_parameter = " UNION ALL ".join(["SELECT CAST(%s AS BIGINT) AS parameter_id"] * len(parameters))
    cursor.execute(
        f"INSERT INTO {_TABLE} (partner_id, parameter_id, period_start, value, source, upload_batch_id, updated_at)"  # noqa: S608 (names and formulas are constants)
        f" SELECT g.partner_id, v.parameter_id, %s, CASE v.parameter_id {pick} END, 'computed', NULL, %s"
        f" FROM (SELECT l.partner_id, {aggregates} FROM {_LEADS} l"
        f" WHERE l.partner_id IS NOT NULL AND l.{column} >= %s AND l.{column} < %s GROUP BY l.partner_id) g"
        f" CROSS JOIN ({one_row_per_parameter}) v"
        " ON CONFLICT (partner_id, parameter_id, period_start) DO UPDATE"
        " SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at"
        f" WHERE {_TABLE}.source = 'computed' AND {_TABLE}.value <> EXCLUDED.value",
        [period, *ids, now, begin, end, *ids],
    )
    written = cursor.rowcount
    in_ids = ", ".join(["%s"] * len(ids))
    cursor.execute(
        f"UPDATE {_TABLE} SET value = 0, updated_at = %s"  # noqa: S608 (names are constants)
        f" WHERE parameter_id IN ({in_ids}) AND period_start = %s AND source = 'computed' AND value <> 0"
        f" AND NOT EXISTS (SELECT 1 FROM {_LEADS} l WHERE l.partner_id = {_TABLE}.partner_id"
        f" AND l.{column} >= %s AND l.{column} < %s)",
        [now, *ids, period, begin, end],
    )
    return written, cursor.rowcount
