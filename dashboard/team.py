"""The manager's team dashboard at /team/ and its CSV exports (/team/export/<table>.csv): ``insights.team``'s aggregates
composed, each figure linked to the partner list filtered to the partners it counts.

Managers only (``user_sees_all_partners``; anyone else gets a 404). ``?rep=<username>`` narrows every figure to the
partners assigned to that user (an unknown name shows everyone, with a message).

Query budget (``team_context``), the same whatever the number of partners: 1. whether the user sees all partners,
2. tiers, 3. active parameters, 4. reps (for names and the filter), 5. partners by tier × state with coverage and
overdue (one GROUPING SETS pass), 6. status changes per month, 7. attainment (nightly pre-aggregate), 8.-9. the
largest drops and rises (nightly pre-aggregate). The session and the user add two.
"""

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from business import periods
from business.selectors import parameters_active
from insights import team, team_charts
from insights.models import TeamMover
from partners.exports import escape_formula
from partners.models import Partner, Tier
from partners.selectors import user_sees_all_partners
from prm.formats import format_period

EXPORTS = ("coverage", "overdue", "attainment", "movers")


@dataclass
class RepRow:
    rep: team.Rep | None  # None: partners assigned to nobody
    coverage: team.Coverage
    url: str  # their partners
    overdue_url: str


def _manager_only(user) -> None:
    if not user_sees_all_partners(user):
        raise Http404


class Links:
    """URLs of the partner list, filtered (and narrowed to the dashboard's rep, if any)."""

    def __init__(self, rep: team.Rep | None):
        self.base = reverse("partners:list")
        self.rep = {"assigned_to": rep.username} if rep else {}

    def list(self, **params) -> str:
        params = {**self.rep, **{k: v for k, v in params.items() if v not in (None, "")}}
        return f"{self.base}?{urlencode(params)}" if params else self.base

    def partner(self, pk: int) -> str:
        return f"{self.base}{pk}/"


def team_context(*, user, rep: str = "", today: date | None = None) -> dict:
    """Everything the page (and the exports) show, read before rendering: 7 queries + the visibility check."""
    _manager_only(user)
    today = today or periods.org_today()
    tiers = list(Tier.objects.order_by("rank"))
    parameters = parameters_active()
    reps = team.team_reps()
    chosen = next((r for r in reps if r.username == rep), None) if rep else None
    rep_unknown = bool(rep) and chosen is None
    rep_id = chosen.id if chosen else None
    links = Links(chosen)

    counts = team.team_partner_counts(tiers=tiers, rep_id=rep_id)
    inactive_now = counts.state_total(Partner.Status.INACTIVE)
    trend = team.team_inactive_trend(current_inactive=inactive_now, rep_id=rep_id, today=today)
    attainment = team.team_attainment(parameters=parameters, tiers=tiers, rep_id=rep_id, today=today)
    drops = team.team_movers(direction=TeamMover.Direction.DROP, rep_id=rep_id)
    rises = team.team_movers(direction=TeamMover.Direction.RISE, rep_id=rep_id)

    by_id = {r.id: r for r in reps}
    rep_ids = set(counts.by_rep)
    if chosen:
        rep_ids = {chosen.id}
    rep_rows = []
    for rep_key in sorted(rep_ids, key=lambda k: (k is None, by_id[k].label.lower() if k in by_id else "")):
        person = by_id.get(rep_key)
        coverage = counts.by_rep.get(rep_key, team.Coverage())
        username = person.username if person else None
        rep_rows.append(RepRow(
            person, coverage,
            url=links.list(assigned_to=username, sort="last_engaged") if person else "",
            overdue_url=links.list(assigned_to=username, overdue="on", sort="due") if person else "",
        ))

    tier_rows = []
    for tier in [*tiers, None]:
        states = {status: counts.by_tier_state.get((tier.pk if tier else None, status), 0)
                  for status in Partner.Status.values}
        if tier is None and not any(states.values()):
            continue
        coverage = counts.by_tier.get(tier.pk if tier else None, team.Coverage())
        since = counts.since.get(tier.pk) if tier else None
        tier_rows.append({
            "tier": tier,
            "states": states,
            "total": sum(states.values()),
            "coverage": coverage,
            "url": links.list(tier=tier.pk) if tier else "",
            "state_urls": {s: links.list(tier=tier.pk, status=s) for s in states} if tier else {},
            # The active partners of the tier not engaged since the frequency's first day: coverage's complement.
            "not_engaged_url": links.list(tier=tier.pk, status=Partner.Status.ACTIVE,
                                          not_engaged_since=since.isoformat(), sort="last_engaged") if since else "",
        })

    month_labels = [format_period(periods.label(m.month, periods.Frequency.MONTHLY)) for m in trend]
    charts = {
        "coverage": team_charts.coverage_figure(
            labels=[row["tier"].name for row in tier_rows if row["tier"]],
            percents=[_float(row["coverage"].percent) for row in tier_rows if row["tier"]],
            title=_("Engaged within the tier's frequency"),
        ),
        "inactive": team_charts.inactive_figure(
            labels=month_labels, inactive=[m.inactive_at_end for m in trend], went=[m.went_inactive for m in trend],
            title=_("Inactive partners, last 12 months"), inactive_name=_("Inactive at month end"),
            went_name=_("Became inactive"),
        ),
        "attainment": [
            team_charts.attainment_figure(
                tiers=[row.tier.name for row in rows if row.tier],
                series=[(_("%(period)s (pace)") % {"period": format_period(attainment.current_labels[p.pk])},
                         [_float(row.current.pace if row.current else None) for row in rows if row.tier])]
                + [(format_period(label), [_float(row.full[i].percent if row.full[i] else None)
                                           for row in rows if row.tier])
                   for i, label in enumerate(attainment.full_labels[p.pk])],
                title=_("%(parameter)s: %% of target by tier") % {"parameter": p.name},
            )
            for p in parameters
            if (rows := [row for row in attainment.rows if row.parameter.pk == p.pk])
        ],
    }
    return {
        "sees_all": True,
        "reps": reps,
        "rep": chosen,
        "rep_unknown": rep_unknown,
        "links": links,
        "tier_rows": tier_rows,
        "totals": {"partners": counts.total, "inactive": inactive_now,
                   "active": counts.state_total(Partner.Status.ACTIVE)},
        "rep_rows": rep_rows,
        "trend": list(zip(trend, month_labels, strict=True)),
        "attainment": attainment,
        "parameters": parameters,
        "drops": drops,
        "rises": rises,
        "movers_parameter": first.parameter if (first := next(iter(drops + rises), None)) else None,
        "movers_period": periods.label(first.period_start, first.parameter.frequency) if first else "",
        "rep_names": {r.id: r.label for r in reps},
        "charts": charts,
        "today": today,
        "inactive_url": links.list(status=Partner.Status.INACTIVE),
        "overdue_url": links.list(overdue="on", sort="due"),
    }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@login_required
@require_GET
def team_dashboard(request):
    context = team_context(user=request.user, rep=request.GET.get("rep", "").strip())
    return render(request, "dashboard/team.html", context)


# --- CSV exports ------------------------------------------------------------------------------------------------------


def _amount(value: Decimal) -> Decimal:
    """A number cell: a Decimal (never text, so a negative change is not mistaken for a formula), no trailing zeros."""
    text = f"{value.quantize(Decimal('0.0001')):f}"
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


def _pct(value) -> str:
    return "" if value is None else str(value)


def export_rows(table: str, context: dict) -> list[list[object]]:
    """The header and rows of one of the page's tables (``EXPORTS``), from ``team_context``'s figures."""
    if table == "coverage":
        rows = [[_("Rep"), _("Username"), _("Partners"), _("Active with a tier"), _("Engaged within frequency"),
                 _("Coverage %")]]
        for row in context["rep_rows"]:
            rows.append([row.rep.label if row.rep else _("Unassigned"), row.rep.username if row.rep else "",
                         row.coverage.partners, row.coverage.active, row.coverage.engaged,
                         _pct(row.coverage.percent)])
        for tier_row in context["tier_rows"]:
            coverage = tier_row["coverage"]
            rows.append([_("Tier: %(tier)s") % {"tier": tier_row["tier"].name if tier_row["tier"] else _("none")},
                         "", coverage.partners, coverage.active, coverage.engaged, _pct(coverage.percent)])
        return rows
    if table == "overdue":
        rows = [[_("Rep"), _("Username"), _("Partners"), _("Overdue")]]
        for row in context["rep_rows"]:
            rows.append([row.rep.label if row.rep else _("Unassigned"), row.rep.username if row.rep else "",
                         row.coverage.partners, row.coverage.overdue])
        return rows
    if table == "attainment":
        rows = [[_("Parameter"), _("Unit"), _("Tier"), _("Period"), _("Full period"), _("Partners with a target"),
                 _("Target"), _("Generated"), _("Attainment %"), _("Pace %")]]
        for row in context["attainment"].rows:
            tier = row.tier.name if row.tier else _("All tiers")
            for cell, full in [(row.current, False)] + [(cell, True) for cell in row.full]:
                if cell is None:
                    continue
                rows.append([row.parameter.name, row.parameter.unit, tier, cell.label, _("yes") if full else _("no"),
                             cell.partners, _amount(cell.target),
                             _amount(cell.generated), _pct(cell.percent),
                             "" if full else _pct(cell.pace)])
        return rows
    rows = [[_("Direction"), _("Partner"), _("Partner id"), _("Tier"), _("Rep"), _("Parameter"), _("Period"),
             _("Value"), _("Average of the 3 periods before"), _("Change")]]
    for mover in [*context["drops"], *context["rises"]]:
        rows.append([mover.get_direction_display(), mover.partner.name, mover.partner_id,
                     mover.partner.tier.name if mover.partner.tier else "",
                     context["rep_names"].get(mover.assigned_to_id, ""), mover.parameter.name,
                     periods.label(mover.period_start, mover.parameter.frequency),
                     _amount(mover.last_value),
                     _amount(mover.previous_average),
                     _amount(mover.change)])
    return rows


@login_required
@require_GET
def team_export(request, table: str):
    """One table of the dashboard as CSV, scoped like the page (managers only, ``?rep=``); every text cell that a
    spreadsheet would run as a formula is neutralised (``partners.exports.escape_formula``)."""
    if table not in EXPORTS:
        raise Http404
    context = team_context(user=request.user, rep=request.GET.get("rep", "").strip())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    suffix = f"-{context['rep'].username}" if context["rep"] else ""
    response["Content-Disposition"] = f'attachment; filename="team-{table}{suffix}-{context["today"]:%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    for row in export_rows(table, context):
        writer.writerow([escape_formula(cell) for cell in row])
    return response
