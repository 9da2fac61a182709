"""The team dashboard's aggregates (insights/team.py) and their nightly pre-aggregate (insights/team_refresh.py), on
the small team of tests/insights/team_data.py."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from business import periods
from business.models import Frequency
from business.selectors import parameters_active
from insights import team
from insights.models import TeamAttainment, TeamMover
from insights.tasks import refresh_team_figures
from insights.team_refresh import team_figures_refresh
from partners.models import Tier
from tests import factories
from tests.insights import team_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(rep, other_rep):
    return team_data.build(rep, other_rep)


def tiers():
    return {tier.name: tier for tier in Tier.objects.order_by("rank")}


def test_partners_by_tier_and_state_coverage_and_overdue(data, rep, other_rep):
    by_name = tiers()
    counts = team.team_partner_counts(tiers=list(by_name.values()))
    plat, gold, silver = by_name["Platinum"].pk, by_name["Gold"].pk, by_name["Silver"].pk
    assert counts.by_tier_state == {(plat, "active"): 2, (gold, "active"): 1, (gold, "inactive"): 1,
                                    (silver, "active"): 1}
    # Coverage per tier: active partners engaged within the tier's frequency (inactive ones left out).
    assert (counts.by_tier[plat].active, counts.by_tier[plat].engaged, counts.by_tier[plat].percent) == (2, 1, 50)
    assert (counts.by_tier[gold].active, counts.by_tier[gold].engaged, counts.by_tier[gold].percent) == (1, 1, 100)
    assert counts.by_tier[silver].percent == 0
    # Per rep: rep1 has Plat late and Gold gone overdue; rep2 nothing overdue (Silver new is due in 30 days).
    mine, theirs = counts.by_rep[rep.pk], counts.by_rep[other_rep.pk]
    assert (mine.partners, mine.active, mine.engaged, mine.overdue, mine.percent) == (3, 2, 1, 2, 50)
    assert (theirs.partners, theirs.active, theirs.engaged, theirs.overdue, theirs.percent) == (2, 2, 1, 0, 50)
    assert counts.total == 5 and counts.state_total("inactive") == 1


def test_partner_counts_for_one_rep(data, rep, other_rep):
    counts = team.team_partner_counts(tiers=list(tiers().values()), rep_id=other_rep.pk)
    assert set(counts.by_rep) == {other_rep.pk}
    assert counts.total == 2


def test_inactive_trend_winds_the_current_count_back(data):
    trend = team.team_inactive_trend(current_inactive=1)
    assert len(trend) == 12 and trend[-1].month == data.month[0] and trend[0].month < trend[-1].month
    by_month = {m.month: (m.went_inactive, m.came_back, m.inactive_at_end) for m in trend}
    assert by_month[data.month[0]] == (0, 0, 1)
    assert by_month[data.month[1]] == (0, 1, 1)  # Gold engaged came back
    assert by_month[data.month[2]] == (1, 0, 2)  # Gold gone went inactive; Gold engaged still was
    assert by_month[data.month[3]] == (1, 0, 1)  # Gold engaged went inactive
    assert by_month[data.month[4]] == (0, 0, 0)


def test_inactive_trend_for_one_rep(data, rep):
    by_month = {m.month: m.went_inactive for m in team.team_inactive_trend(current_inactive=1, rep_id=rep.pk)}
    assert by_month[data.month[2]] == 1 and by_month[data.month[3]] == 0  # only Gold gone is rep1's


def test_attainment_current_period_paced_and_last_full_periods(data):
    team_figures_refresh()
    by_name = tiers()
    today = periods.org_today()
    result = team.team_attainment(parameters=parameters_active(), tiers=list(by_name.values()), today=today)
    assert result.computed_at is not None
    rows = {(row.parameter.code, row.tier.name if row.tier else "all"): row for row in result.rows}
    platinum = rows[("revenue", "Platinum")]
    assert (platinum.current.target, platinum.current.generated, platinum.current.percent) == (1000, 500, 50)
    elapsed, total = periods.elapsed_days(data.month[0], Frequency.MONTHLY, today)
    assert platinum.current.pace == (Decimal(500) * 100 * total / (1000 * elapsed)).quantize(Decimal("1"))
    assert platinum.full[0].percent == 100 and platinum.full[1] is None and len(platinum.full) == 3
    gold = rows[("revenue", "Gold")]
    assert (gold.current.target, gold.current.generated, gold.current.percent) == (3000, 0, 0)
    everyone = rows[("revenue", "all")]
    assert (everyone.current.target, everyone.current.generated, everyone.current.partners) == (4000, 500, 2)
    assert ("revenue", "Silver") not in rows  # no targets: no row
    assert result.full_labels[platinum.parameter.pk][0] == periods.label(
        data.month[1], Frequency.MONTHLY)


def test_attainment_for_one_rep(data, other_rep):
    team_figures_refresh()
    result = team.team_attainment(parameters=parameters_active(), tiers=list(tiers().values()), rep_id=other_rep.pk)
    assert {(row.tier.name if row.tier else "all", row.current.target) for row in result.rows} == {
        ("Gold", 3000), ("all", 3000)}


def test_movers_last_full_period_against_the_three_before(data, rep, other_rep):
    team_figures_refresh()
    drops = team.team_movers(direction=TeamMover.Direction.DROP)
    rises = team.team_movers(direction=TeamMover.Direction.RISE)
    assert [(m.partner.name, m.change, m.last_value, m.previous_average) for m in drops] == [
        ("Plat late", -600, 0, 600)]
    assert [(m.partner.name, m.change) for m in rises] == [("Plat engaged", 700)]
    assert all(m.period_start == data.month[1] and m.parameter.code == "revenue" for m in drops + rises)
    # Gold engaged: 30 against (0 + 90 + 0) / 3 = 30, no change: not a mover. rep2 has none.
    assert team.team_movers(direction=TeamMover.Direction.RISE, rep_id=other_rep.pk) == []
    assert len(team.team_movers(direction=TeamMover.Direction.DROP, rep_id=rep.pk)) == 1


def test_movers_keep_each_reps_ten_largest(rep):
    revenue = factories.parameter("revenue")
    last = periods.shift(periods.period_start(periods.org_today(), Frequency.MONTHLY), Frequency.MONTHLY, -1)
    for n in range(12):
        partner = factories.PartnerFactory(name=f"Up {n}", assigned_to=rep)
        factories.AchievementFactory(partner=partner, parameter=revenue, period_start=last, value=Decimal(n + 1))
    team_figures_refresh()
    rises = team.team_movers(direction=TeamMover.Direction.RISE)
    assert [m.partner.name for m in rises] == [f"Up {n}" for n in range(11, 1, -1)]  # the ten largest, largest first
    assert TeamMover.objects.count() == 10


def test_refresh_is_idempotent(data):
    first = team_figures_refresh()
    rows = sorted(TeamAttainment.objects.values_list("assigned_to", "tier", "parameter", "period_start", "target",
                                                     "generated"))
    second = team_figures_refresh()
    assert (first.attainment_rows, first.mover_rows) == (second.attainment_rows, second.mover_rows)
    assert sorted(TeamAttainment.objects.values_list("assigned_to", "tier", "parameter", "period_start", "target",
                                                     "generated")) == rows
    assert TeamMover.objects.count() == 2


def test_refresh_command(data, capsys):
    call_command("refresh_team_figures")
    assert "Team figures refreshed" in capsys.readouterr().out
    assert TeamAttainment.objects.exists()


def test_nightly_task_refreshes_the_figures(data):
    assert refresh_team_figures() == {"attainment_rows": TeamAttainment.objects.count(), "mover_rows": 2}
