"""The team dashboard's aggregates (/team/, managers): reads only, each one set-based statement.

Live (the current state, fresh on every request):

- ``team_partner_counts``: one pass over the partners (``GROUPING SETS``) gives partners by tier × state, engagement
  coverage per tier, and coverage and overdue per rep. 90 ms at 100k partners (a sequential scan of 115 MB, warm;
  EXPLAIN ANALYZE on the 100k bench database); three separate GROUP BYs scanned three times.
- ``team_inactive_trend``: status changes to and from Inactive per month of the last 12 (``partners_statuschange``,
  its ``changed_at`` index), and, from the current count, the number inactive at each month's end.

Pre-aggregated nightly (``insights.team_refresh.team_figures_refresh``, after the metrics), read here:

- ``team_attainment``: targets vs generated per tier × parameter for the current period (paced) and the last full
  periods. Live it summed 1.4M target rows and 340k achievements joined to the partners: 410 + 210 ms at 100k.
- ``team_movers``: the largest drops and rises of the main parameter (the last full period vs the average of the
  three before), from each rep's ten of each (the team's ten are among them).

Scope: the page is for managers, who see every partner (``partners.selectors.user_sees_all_partners``); ``rep``
narrows every figure to the partners assigned to one user. Definitions:

- *engaged within the tier's frequency*: an **active** partner whose last engagement is on or after the start of the
  day ``today − tier.engage_every_days`` (in the active time zone, as the list's "Not engaged since" filter reads a
  date); coverage = engaged ÷ active partners with a tier. Inactive partners and partners without a tier are left out.
- *overdue*: ``engagement_due_at`` before now, any state (what the list's "Overdue only" filter shows).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, Max, OuterRef, Q, Sum
from django.utils import timezone

from business import periods
from business.models import Parameter
from business.selectors import pace_percent
from insights.models import TeamAttainment, TeamMover
from partners.models import Partner, Tier
from partners.roles import SALES_REP

HUNDRED = Decimal("100")
FULL_PERIODS = 3  # attainment: the last full periods shown next to the current one
TREND_MONTHS = 12
MOVERS = 10


@dataclass(frozen=True)
class Rep:
    id: int
    username: str
    name: str  # full name, or the username

    @property
    def label(self) -> str:
        return self.name or self.username


def team_reps() -> list[Rep]:
    """Active sales reps and anyone else with partners assigned (to name every row of "per rep"), by username. One
    query (an EXISTS per user on the partner_assignee indexes)."""
    has_partners = Exists(Partner.objects.filter(assigned_to=OuterRef("pk")))
    rows = (
        get_user_model().objects.filter(Q(is_active=True, groups__name=SALES_REP) | Q(has_partners)).distinct()
        .order_by("username").values_list("pk", "username", "first_name", "last_name")
    )
    return [Rep(pk, username, f"{first} {last}".strip() or username) for pk, username, first, last in rows]


# --- Partners: by tier and state, coverage, overdue ---------------------------------------------------------------------


@dataclass
class Coverage:
    partners: int = 0  # all states
    active: int = 0  # active partners with a tier (coverage's denominator)
    engaged: int = 0  # of those, engaged within their tier's frequency
    overdue: int = 0

    @property
    def not_engaged(self) -> int:
        return self.active - self.engaged

    @property
    def percent(self) -> Decimal | None:
        return None if not self.active else (Decimal(self.engaged) * HUNDRED / self.active).quantize(Decimal("1"))


@dataclass
class PartnerCounts:
    by_tier_state: dict[tuple[int | None, str], int]  # (tier id or None, status) → partners
    by_tier: dict[int | None, Coverage]
    by_rep: dict[int | None, Coverage]  # assigned_to id (None: unassigned) → coverage and overdue
    since: dict[int, date]  # tier id → the first day that counts as "engaged within the frequency"

    @property
    def total(self) -> int:
        return sum(self.by_tier_state.values())

    def state_total(self, status: str) -> int:
        return sum(n for (_tier, state), n in self.by_tier_state.items() if state == status)


def engaged_since(tiers: list[Tier], today: date) -> dict[int, date]:
    """Tier id → the first day an engagement must be on to count as within the tier's frequency."""
    return {tier.pk: today - timedelta(days=tier.engage_every_days) for tier in tiers}


def team_partner_counts(*, tiers: list[Tier], rep_id: int | None = None, now: datetime | None = None) -> PartnerCounts:
    """Partners by tier × state, coverage per tier and per rep, overdue per rep: one statement (GROUPING SETS)."""
    now = now or timezone.now()
    since = engaged_since(tiers, timezone.localdate(now))
    starts = [timezone.make_aware(datetime.combine(day, time.min)) for day in since.values()]
    where, params = "", {"tier_ids": list(since), "starts": starts, "now": now, "active": Partner.Status.ACTIVE}
    if rep_id is not None:
        where, params["rep"] = "WHERE p.assigned_to_id = %(rep)s", rep_id
    sql = f"""
        SELECT GROUPING(p.assigned_to_id) AS by_tier, p.assigned_to_id, p.tier_id, p.status, COUNT(*),
               COUNT(*) FILTER (WHERE p.status = %(active)s AND s.since IS NOT NULL),
               COUNT(*) FILTER (WHERE p.status = %(active)s AND p.last_engaged_at >= s.since),
               COUNT(*) FILTER (WHERE p.engagement_due_at < %(now)s)
        FROM partners_partner p
        LEFT JOIN unnest(%(tier_ids)s::bigint[], %(starts)s::timestamptz[]) AS s(tier_id, since)
            ON s.tier_id = p.tier_id
        {where}
        GROUP BY GROUPING SETS ((p.assigned_to_id), (p.tier_id, p.status))
    """  # noqa: S608 (no user text: ``where`` is one of two constants)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    by_tier_state, by_tier, by_rep = {}, {}, {}
    for by_tier_row, rep, tier_id, status, n, active, engaged, overdue in rows:
        if by_tier_row:  # grouped by (tier, status)
            by_tier_state[(tier_id, status)] = n
            cov = by_tier.setdefault(tier_id, Coverage())
        else:
            cov = by_rep.setdefault(rep, Coverage())
        cov.partners += n
        cov.active += active
        cov.engaged += engaged
        cov.overdue += overdue
    return PartnerCounts(by_tier_state, by_tier, by_rep, since)


# --- Inactive partners over 12 months --------------------------------------------------------------------------------


@dataclass
class InactiveMonth:
    month: date
    went_inactive: int
    came_back: int
    inactive_at_end: int  # partners inactive at the month's end (now, for the current month)


def team_inactive_trend(*, current_inactive: int, rep_id: int | None = None, today: date | None = None,
                        months: int = TREND_MONTHS) -> list[InactiveMonth]:
    """The last ``months`` months (the current one included, oldest first), in the organisation's time zone: how many
    partners became inactive, came back, and were inactive at the month's end (the current count, wound back by each
    later month's changes). One statement. With ``rep_id``: the partners assigned to that rep now."""
    today = today or periods.org_today()
    month_starts = periods.last_periods(periods.Frequency.MONTHLY, months, today)
    zone = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(month_starts[0], time.min), zone)
    join, params = "", {"zone": settings.TIME_ZONE, "start": start, "inactive": Partner.Status.INACTIVE}
    if rep_id is not None:
        join, params["rep"] = "JOIN partners_partner p ON p.id = c.partner_id AND p.assigned_to_id = %(rep)s", rep_id
    sql = f"""
        SELECT date_trunc('month', c.changed_at AT TIME ZONE %(zone)s)::date,
               COUNT(*) FILTER (WHERE c.to_status = %(inactive)s AND c.from_status <> %(inactive)s),
               COUNT(*) FILTER (WHERE c.from_status = %(inactive)s AND c.to_status <> %(inactive)s)
        FROM partners_statuschange c {join}
        WHERE c.changed_at >= %(start)s
        GROUP BY 1
    """  # noqa: S608 (no user text: ``join`` is one of two constants)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changes = {month: (went, back) for month, went, back in cursor.fetchall()}
    result, inactive = [], current_inactive
    for month in reversed(month_starts):
        went, back = changes.get(month, (0, 0))
        result.append(InactiveMonth(month, went, back, max(inactive, 0)))
        inactive -= went - back  # at the end of the month before
    return result[::-1]


# --- Attainment (pre-aggregated) --------------------------------------------------------------------------------------


@dataclass
class AttainmentCell:
    period_start: date
    label: str
    target: Decimal
    generated: Decimal
    partners: int
    pace: Decimal | None = None  # the current period only: generated ÷ (target × elapsed share)

    @property
    def percent(self) -> Decimal | None:
        return None if not self.target else (self.generated * HUNDRED / self.target).quantize(Decimal("1"))


@dataclass
class AttainmentRow:
    parameter: Parameter
    tier: Tier | None  # None: all tiers
    current: AttainmentCell | None
    full: list[AttainmentCell | None]  # the last full periods, most recent first


@dataclass
class Attainment:
    rows: list[AttainmentRow]
    computed_at: datetime | None
    full_labels: dict[int, list[str]] = field(default_factory=dict)  # parameter id → labels of its full periods
    current_labels: dict[int, str] = field(default_factory=dict)
    elapsed: dict[int, tuple[int, int]] = field(default_factory=dict)


def attainment_periods(parameter: Parameter, today: date, full: int = FULL_PERIODS) -> list[date]:
    """The current period of ``parameter`` and its ``full`` previous ones, current first."""
    current = periods.period_start(today, parameter.frequency)
    return [periods.shift(current, parameter.frequency, -n) for n in range(full + 1)]


def team_attainment(*, parameters: list[Parameter], tiers: list[Tier], rep_id: int | None = None,
                    today: date | None = None) -> Attainment:
    """Per parameter: a row per tier (that has targets) and one for all tiers; each with the current period (paced)
    and the last ``FULL_PERIODS`` full ones. One query on the nightly pre-aggregate (``TeamAttainment``)."""
    today = today or periods.org_today()
    wanted = {p.pk: attainment_periods(p, today) for p in parameters}
    queryset = TeamAttainment.objects.filter(parameter__in=list(wanted))
    if rep_id is not None:
        queryset = queryset.filter(assigned_to_id=rep_id)
    rows = (
        queryset.values("tier_id", "parameter_id", "period_start")
        .annotate(n=Sum("partners"), t=Sum("target"), g=Sum("generated"), at=Max("computed_at"))
        .order_by()
    )
    sums, computed_at = {}, None
    for row in rows:
        for tier_key in (row["tier_id"], "all"):
            key = (row["parameter_id"], tier_key, row["period_start"])
            n, t, g = sums.get(key, (0, Decimal(0), Decimal(0)))
            sums[key] = (n + row["n"], t + row["t"], g + row["g"])
        computed_at = max(filter(None, (computed_at, row["at"])), default=None)
    tier_by_id = {tier.pk: tier for tier in tiers}
    result = Attainment([], computed_at)
    for parameter in parameters:
        starts = wanted[parameter.pk]
        labels = [periods.label(start, parameter.frequency) for start in starts]
        result.current_labels[parameter.pk] = labels[0]
        result.full_labels[parameter.pk] = labels[1:]
        elapsed = periods.elapsed_days(starts[0], parameter.frequency, today)
        result.elapsed[parameter.pk] = elapsed
        tier_keys = [tier.pk for tier in tiers] + [None, "all"]
        for tier_key in tier_keys:
            cells = []
            for index, (start, label) in enumerate(zip(starts, labels, strict=True)):
                value = sums.get((parameter.pk, tier_key, start))
                if value is None:
                    cells.append(None)
                    continue
                cell = AttainmentCell(start, label, value[1], value[2], value[0])
                if index == 0:
                    cell.pace = pace_percent(cell.generated, cell.target, *elapsed)
                cells.append(cell)
            if any(cells):
                tier = None if tier_key == "all" else tier_by_id.get(tier_key)
                if tier_key is None:  # partners without a tier: shown as their own row
                    tier = Tier(pk=None, name="No tier", rank=0, engage_every_days=0)
                result.rows.append(AttainmentRow(parameter, tier, cells[0], cells[1:]))
    return result


# --- Biggest movers (pre-aggregated) ----------------------------------------------------------------------------------


def team_movers(*, direction: str, rep_id: int | None = None, limit: int = MOVERS) -> list[TeamMover]:
    """The ``limit`` largest drops (``TeamMover.Direction.DROP``) or rises of the main parameter, with their partner
    (name, tier) and parameter. One query on the nightly pre-aggregate."""
    queryset = TeamMover.objects.filter(direction=direction)
    if rep_id is not None:
        queryset = queryset.filter(assigned_to_id=rep_id)
    order = "change" if direction == TeamMover.Direction.DROP else "-change"
    return list(
        queryset.select_related("partner__tier", "parameter")
        .only("partner__name", "partner__tier__name", "partner__tier__rank", "parameter__name", "parameter__unit",
              "parameter__frequency", "period_start", "last_value", "previous_average", "change", "assigned_to_id",
              "computed_at", "direction")
        .order_by(order, "partner_id")[:limit]
    )
