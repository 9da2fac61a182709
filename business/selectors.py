"""Reads for the business card, the trendline and the partner list's completion column.

Generated values of *computed* parameters that have no row count as zero (the nightly computation only writes rows for
partners that had leads in the period, see business.metrics); values of *uploaded* parameters that have no row are
unknown and shown as gaps.

Like with like (issue 12): the current period is in progress, so its figure is shown as *pacing* — generated ÷ (target ×
the elapsed share of the period, ``periods.elapsed_days``), "on pace 104 %" / "behind 85 %" — besides the plain
completion; and the card's change compares the last full period with the one before it (two full periods), never the
period so far with a full one. Monthly rows hold no dates inside a period, so "the same point last month" cannot be
known for uploaded parameters: two full periods can.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import F, Q, QuerySet, Subquery

from business import charts, periods
from business.models import Achievement, Frequency, Parameter, Target
from partners.models import Partner
from partners.selectors import partner_visible_to, user_sees_all_partners
from prm import pg

TREND_PERIODS = 12  # the trendline shows this many periods unless a caller asks for another number
ZERO = Decimal("0")
HUNDRED = Decimal("100")


def figures_visible_to(user: AbstractBaseUser, *, model: type[Target] | type[Achievement]) -> QuerySet:
    """The targets or achievements (``model``) of the partners ``user`` may see (partners.selectors'
    ``partner_visible_to`` rule): everyone's for a manager, with no partner subquery; a rep's partners' otherwise.
    The visibility check is one query per request (``user_sees_all_partners``)."""
    if user.is_authenticated and user_sees_all_partners(user):
        return model.objects.all()
    return model.objects.filter(partner__in=partner_visible_to(user))


def figures_visible_parts(user: AbstractBaseUser, queryset: QuerySet) -> list[QuerySet] | None:
    """``figures_visible_to`` applied to ``queryset`` (targets or achievements, filtered), as the parts whose union it
    is — one part: the rows of the partners ``user`` sees, read by ``partner_id = ANY(ARRAY(…))`` on the
    (partner, updated_at, id) index — or None when ``user`` sees every row. For the API's cursor pages
    (``api.resources.page_candidates``)."""
    if not (user.is_authenticated and user.is_active):
        return [queryset.none()]
    if user_sees_all_partners(user):
        return None
    return [queryset.filter(pg.AnyOf(F("partner_id"), Subquery(partner_visible_to(user).values("pk"))))]


def parameters_all() -> list[Parameter]:
    """Every parameter (active or not) in display order (one query)."""
    return list(Parameter.objects.order_by("order", "name", "id"))


def parameters_active() -> list[Parameter]:
    """Active parameters in display order (one query)."""
    return list(Parameter.objects.filter(is_active=True).order_by("order", "name", "id"))


def partner_business_context(
    partner: Partner, *, parameter_code: str | None = None, today: date | None = None, trend_periods: int = TREND_PERIODS
) -> dict:
    """Template context for the partner page's business card and trendline: three queries, whatever the number of
    parameters and periods (parameters, targets, achievements).

    Keys: ``business_card`` (list of rows, see ``_card_row``), ``trend_parameters`` (parameters to choose from),
    ``trend_parameter`` (the chosen one or None), ``trend_figure`` (a dict for ``json_script``, or None when the
    partner has no target or value in the trend's periods), ``trend_periods`` (labels, oldest first).
    """
    today = today or periods.org_today()
    parameters = parameters_active()
    context = {"business_card": [], "trend_parameters": parameters, "trend_parameter": None, "trend_figure": None,
               "trend_periods": []}
    if not parameters or partner is None or partner.pk is None:
        return context

    current = {p.pk: periods.period_start(today, p.frequency) for p in parameters}
    previous = {p.pk: periods.shift(current[p.pk], p.frequency, -1) for p in parameters}
    before = {p.pk: periods.shift(current[p.pk], p.frequency, -2) for p in parameters}
    by_code = {p.code: p for p in parameters}
    by_id = {p.pk: p for p in parameters}
    trend_parameter = by_code.get(parameter_code)
    trend_starts = []

    # Which (parameter, period) rows are needed: this and the two previous periods of each parameter, and the trend's
    # window. They are read with one simple range condition (a few dozen rows more than needed at most) rather than
    # an OR per parameter: building and compiling that OR cost more CPU than the rows it saved.
    if trend_parameter is None:
        # No (valid) choice: the trend shows the first parameter that has something this period, else the first one.
        # Its periods are fetched for every parameter's trend window, so the choice costs no extra query.
        trend_window = {p.pk: periods.last_periods(p.frequency, trend_periods, today) for p in parameters}
        earliest = min([*before.values(), *(window[0] for window in trend_window.values())])
    else:
        trend_starts = periods.last_periods(trend_parameter.frequency, trend_periods, today)
        earliest = min([*before.values(), trend_starts[0]])
    wanted = Q(partner_id=partner.pk, parameter_id__in=list(by_id), period_start__gte=earliest,
               period_start__lte=max(current.values()))

    targets = _values_by_key(Target.objects.filter(wanted))
    generated = _values_by_key(Achievement.objects.filter(wanted))

    card = []
    for p in parameters:
        key, prev_key = (p.pk, current[p.pk]), (p.pk, previous[p.pk])
        if key not in targets and key not in generated:
            continue
        card.append(_card_row(p, current[p.pk], targets.get(key), _generated(p, generated, key),
                              _generated(p, generated, prev_key), _generated(p, generated, (p.pk, before[p.pk])),
                              today=today))
    context["business_card"] = card

    if trend_parameter is None:
        with_data = {row["parameter"].pk for row in card}
        trend_parameter = next((p for p in parameters if p.pk in with_data), parameters[0])
        trend_starts = trend_window[trend_parameter.pk]
    context["trend_parameter"] = trend_parameter
    context["trend_periods"] = [periods.label(start, trend_parameter.frequency) for start in trend_starts]
    context["trend_figure"] = _trend_figure(trend_parameter, trend_starts, targets, generated)
    return context


def _trend_figure(parameter, starts, targets, generated):
    """The trendline's figure (business.charts); None when the partner has nothing in these periods."""
    keys = [(parameter.pk, start) for start in starts]
    target_values = [targets.get(key) for key in keys]
    if all(v is None for v in target_values) and all(generated.get(key) is None for key in keys):
        return None
    return charts.trend_figure(
        parameter=parameter,
        labels=[periods.label(start, parameter.frequency) for start in starts],
        targets=target_values,
        generated=[_generated(parameter, generated, key) for key in keys],
    )


def _values_by_key(queryset):
    rows = queryset.order_by().values_list("parameter_id", "period_start", "value")
    return {(pid, start): value for pid, start, value in rows}


def _generated(parameter, generated, key):
    """A generated value; a computed parameter with no row generated zero, an uploaded one is unknown (None)."""
    value = generated.get(key)
    if value is None and parameter.source == Parameter.Source.COMPUTED:
        return ZERO
    return value


def pace_percent(value, target, elapsed: int, total: int) -> Decimal | None:
    """Generated as a % of what the target expects by now (``target × elapsed / total``); None without a target,
    a value or an elapsed day. 100 = exactly on pace."""
    if not target or value is None or elapsed <= 0:
        return None
    return (Decimal(value) * HUNDRED * total / (target * elapsed)).quantize(Decimal("1"))


def _card_row(parameter, start, target, value, previous, before, *, today):
    """One parameter's row: this period's target, generated so far, completion and pacing; the last full period
    (``previous``) against the one before it (``before``)."""
    completion = None
    if target and value is not None:
        completion = (value * HUNDRED / target).quantize(Decimal("1"))
    elapsed, total = periods.elapsed_days(start, parameter.frequency, today)
    pace = pace_percent(value, target, elapsed, total)
    change = change_percent = None
    if previous is not None and before is not None:
        change = previous - before
        if before:
            change_percent = (change * HUNDRED / before).quantize(Decimal("1"))
    last_full = periods.shift(start, parameter.frequency, -1)
    return {
        "parameter": parameter,
        "unit": parameter.unit,
        "period": periods.label(start, parameter.frequency),
        "target": target,
        "generated": value,
        "completion": completion,
        "elapsed_days": elapsed,
        "period_days": total,
        "pace": pace,
        "on_pace": pace is not None and pace >= HUNDRED,
        "previous_period": periods.label(last_full, parameter.frequency),
        "previous": previous,
        "before_period": periods.label(periods.shift(last_full, parameter.frequency, -1), parameter.frequency),
        "before": before,
        "change": change,
        "change_percent": change_percent,
    }


def current_completion_for_partners(partner_ids: Iterable[int], *, today: date | None = None) -> dict[int, dict]:
    """This period's target completion and pacing for many partners in one query, for the partner list.

    Returns ``{partner_id: {"parameter": <name>, "percent": Decimal, "pace": Decimal | None, "on_pace": bool}}`` for
    the first parameter (by order) that has a non-zero target in its current period; partners with no target are
    absent. A missing generated value counts as 0. ``percent`` is generated ÷ target; ``pace`` is generated ÷ (target
    × the elapsed share of the period): on the 3rd of a month a partner at 10 % of its target is on pace (100).
    """
    partner_ids = list(partner_ids)
    if not partner_ids:
        return {}
    today = today or periods.org_today()
    starts = {frequency: periods.period_start(today, frequency) for frequency in Frequency.values}
    elapsed = {frequency: periods.elapsed_days(start, frequency, today) for frequency, start in starts.items()}
    # Plain SQL: the ORM spent more CPU building this statement (a correlated subquery) than PostgreSQL ran it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.partner_id, p.name, p.frequency, t.value, COALESCE(a.value, 0)"
            " FROM business_target t JOIN business_parameter p ON p.id = t.parameter_id"
            " LEFT JOIN business_achievement a ON a.partner_id = t.partner_id AND a.parameter_id = t.parameter_id"
            " AND a.period_start = t.period_start"
            " WHERE t.partner_id = ANY(%s) AND p.is_active AND t.value > 0"
            " AND ((p.frequency = %s AND t.period_start = %s) OR (p.frequency = %s AND t.period_start = %s))"
            " ORDER BY t.partner_id, p.\"order\", p.name, p.id",
            [partner_ids, Frequency.MONTHLY, starts[Frequency.MONTHLY],
             Frequency.QUARTERLY, starts[Frequency.QUARTERLY]],
        )
        rows = cursor.fetchall()
    result = {}
    for partner_id, name, frequency, target, achieved_value in rows:
        if partner_id not in result:
            percent = (Decimal(achieved_value) * HUNDRED / target).quantize(Decimal("1"))
            pace = pace_percent(achieved_value, target, *elapsed[frequency])
            result[partner_id] = {"parameter": name, "percent": percent, "pace": pace,
                                  "on_pace": pace is not None and pace >= HUNDRED}
    return result
