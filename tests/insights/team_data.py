"""A small team for the team dashboard's tests (tests/insights/test_team.py, tests/dashboard/test_team_page.py).

rep1 (``rep``): "Plat engaged" (Platinum, engaged 3 days ago), "Plat late" (Platinum, engaged 10 days ago: overdue),
"Gold gone" (Gold, inactive, engaged 40 days ago: overdue). rep2 (``other_rep``): "Gold engaged" (5 days ago),
"Silver new" (never engaged, created now: not overdue). Revenue (monthly) targets and values, status changes: see
``build``; the expected figures are spelled out in the tests.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from business import periods
from business.models import Frequency, Parameter
from partners.models import Partner, StatusChange
from tests import factories


@dataclass
class Team:
    plat_engaged: Partner
    plat_late: Partner
    gold_gone: Partner
    gold_engaged: Partner
    silver_new: Partner
    month: list  # month starts: [current, m-1, m-2, m-3, m-4]


def mid_month(start):
    return timezone.make_aware(datetime.combine(start + timedelta(days=14), time(12)),
                               timezone.get_default_timezone())


def build(rep, other_rep) -> Team:
    now = timezone.now()
    partner = factories.PartnerFactory
    plat_engaged = partner(name="Plat engaged", assigned_to=rep, tier=factories.tier("Platinum"),
                           last_engaged_at=now - timedelta(days=3))
    plat_late = partner(name="Plat late", assigned_to=rep, tier=factories.tier("Platinum"),
                        last_engaged_at=now - timedelta(days=10))
    gold_gone = partner(name="Gold gone", assigned_to=rep, tier=factories.tier("Gold"),
                        status=Partner.Status.INACTIVE, last_engaged_at=now - timedelta(days=40))
    gold_engaged = partner(name="Gold engaged", assigned_to=other_rep, tier=factories.tier("Gold"),
                           last_engaged_at=now - timedelta(days=5))
    silver_new = partner(name="Silver new", assigned_to=other_rep, tier=factories.tier("Silver"))
    current = periods.period_start(periods.org_today(), Frequency.MONTHLY)
    month = [periods.shift(current, Frequency.MONTHLY, -n) for n in range(5)]

    revenue = factories.parameter(Parameter.REVENUE)
    target, achieved = factories.TargetFactory, factories.AchievementFactory
    # Attainment: this month Plat engaged 500 of 1000, Gold engaged 0 (no row) of 3000; last month Plat engaged 1000
    # of 1000.
    target(partner=plat_engaged, parameter=revenue, period_start=month[0], value=Decimal("1000"))
    achieved(partner=plat_engaged, parameter=revenue, period_start=month[0], value=Decimal("500"))
    target(partner=gold_engaged, parameter=revenue, period_start=month[0], value=Decimal("3000"))
    target(partner=plat_engaged, parameter=revenue, period_start=month[1], value=Decimal("1000"))
    # Movers (last full month vs the 3 before): Plat engaged 300, 300, 300 → 1000 (+700, and it has the 1000 above);
    # Plat late 600, 600, 600 → nothing (−600); Gold engaged 90 two months before → 30 (no change: not a mover).
    for start in month[2:5]:
        achieved(partner=plat_engaged, parameter=revenue, period_start=start, value=Decimal("300"))
        achieved(partner=plat_late, parameter=revenue, period_start=start, value=Decimal("600"))
    achieved(partner=plat_engaged, parameter=revenue, period_start=month[1], value=Decimal("1000"))
    achieved(partner=gold_engaged, parameter=revenue, period_start=month[2], value=Decimal("90"))
    achieved(partner=gold_engaged, parameter=revenue, period_start=month[1], value=Decimal("30"))

    # Status history: Gold engaged went inactive in m-3 and came back in m-1; Gold gone went inactive in m-2.
    def change(p, old, new, start):
        StatusChange.objects.create(partner=p, from_status=old, to_status=new, set_by=Partner.StatusSetBy.RULE,
                                    changed_at=mid_month(start))

    active, inactive = Partner.Status.ACTIVE, Partner.Status.INACTIVE
    change(gold_engaged, active, inactive, month[3])
    change(gold_gone, active, inactive, month[2])
    change(gold_engaged, inactive, active, month[1])
    return Team(plat_engaged, plat_late, gold_gone, gold_engaged, silver_new, month)
