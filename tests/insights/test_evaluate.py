"""insights.evaluate against the real PostgreSQL: each rule fires on the right partners only, the run is idempotent,
causes that go away resolve, reactions (dismissed, snoozed) are respected, one partner's run touches only that
partner, and the signal path re-evaluates a partner after its activity commits."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from activities.models import Activity
from activities.services import activity_log
from business import periods
from business.models import InactivityRule, Parameter
from insights.evaluate import insights_evaluate
from insights.models import Insight, Rule
from insights.sentences import insight_sentence
from leads.models import Lead
from partners.models import Partner
from tests import factories
from tests.factories import AchievementFactory, ActivityFactory, LeadFactory, PartnerFactory, TargetFactory

pytestmark = pytest.mark.django_db


def rule(code, **changes) -> Rule:
    obj = Rule.objects.get(code=code)
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save()
    return obj


def found(code, state=Insight.State.OPEN) -> dict[int, Insight]:
    """The rule's insights in ``state``, by partner id."""
    return {i.partner_id: i for i in Insight.objects.filter(rule__code=code, state=state)}


def ago(days, now=None):
    return (now or timezone.now()) - timedelta(days=days)


# --- Rule 1: engagement due --------------------------------------------------------------------------------------------


@pytest.fixture
def engagement_partners(rep):
    platinum, gold = factories.tier("Platinum"), factories.tier("Gold")
    return {
        "overdue": PartnerFactory(tier=platinum, assigned_to=rep, last_engaged_at=ago(12)),  # due 5 days ago
        "soon": PartnerFactory(tier=gold, assigned_to=rep, last_engaged_at=ago(12)),  # due in 2 days (rule: 3)
        "fine": PartnerFactory(tier=gold, assigned_to=rep, last_engaged_at=ago(1)),  # due in 13 days
        "inactive": PartnerFactory(tier=platinum, assigned_to=rep, last_engaged_at=ago(30),
                                   status=Partner.Status.INACTIVE),
        "unassigned": PartnerFactory(tier=platinum, assigned_to=None, last_engaged_at=ago(30)),
    }


def test_engagement_due_fires_on_overdue_and_due_soon_partners_only(engagement_partners):
    p = engagement_partners
    counts = insights_evaluate()
    insights = found("engagement_due")
    assert set(insights) == {p["overdue"].pk, p["soon"].pk}
    assert counts["engagement_due"] == {"seen": 2, "written": 2, "resolved": 0}
    overdue = insights[p["overdue"].pk]
    due_on = periods.org_today(p["overdue"].engagement_due_at)
    assert overdue.fingerprint == f"engagement_due:{p['overdue'].pk}:{due_on.isoformat()}"
    assert overdue.evidence == {  # dates, not day counts: the sentence counts the days when it is shown
        "tier": "Platinum", "every_days": 7, "last_engaged": periods.org_today(ago(12)).isoformat(),
        "due_on": due_on.isoformat(),
    }
    assert overdue.score == 80 + 30 + 0  # weight + Platinum + whole weeks overdue in days (5 days: 0)
    soon_due = periods.org_today(p["soon"].engagement_due_at)
    assert (soon_due - periods.org_today()).days == 2  # due in 2 days
    assert insights[p["soon"].pk].evidence["due_on"] == soon_due.isoformat()
    assert insights[p["soon"].pk].score == 80 + 20 + 0


def test_only_the_rule_tiers(engagement_partners):
    rule("engagement_due").tiers.set([factories.tier("Platinum")])
    insights_evaluate()
    assert set(found("engagement_due")) == {engagement_partners["overdue"].pk}


def test_a_disabled_rule_finds_nothing_and_its_open_insights_resolve(engagement_partners):
    insights_evaluate()
    assert len(found("engagement_due")) == 2
    rule("engagement_due", enabled=False)
    counts = insights_evaluate()
    assert found("engagement_due") == {}
    assert counts["engagement_due"] == {"seen": 0, "written": 0, "resolved": 2}
    assert len(found("engagement_due", Insight.State.RESOLVED)) == 2


def test_idempotent_a_second_run_writes_nothing(engagement_partners, rep):
    LeadFactory(partner=engagement_partners["overdue"], created_at=ago(20))
    insights_evaluate()
    before = {i.pk: (i.fingerprint, i.state, i.score, i.evidence, i.updated_at, i.last_seen_at)
              for i in Insight.objects.all()}
    assert len({row[0].split(":")[0] for row in before.values()}) >= 3  # several rules found something
    counts = insights_evaluate(now=timezone.now() + timedelta(seconds=1))
    after = {i.pk: (i.fingerprint, i.state, i.score, i.evidence, i.updated_at, i.last_seen_at)
             for i in Insight.objects.all()}
    assert after == before
    assert all(c["written"] == 0 and c["resolved"] == 0 for c in counts.values()), counts
    assert sum(c["seen"] for c in counts.values()) == len(before)


def test_the_next_day_rewrites_nothing_until_the_score_steps_a_week(engagement_partners):
    insights_evaluate()
    insight = found("engagement_due")[engagement_partners["overdue"].pk]  # 5 days overdue
    counts = insights_evaluate(now=timezone.now() + timedelta(days=1))
    assert counts["engagement_due"]["written"] == 0  # same dates, same weekly score step: nothing rewritten
    assert Insight.objects.get(pk=insight.pk).updated_at == insight.updated_at
    insights_evaluate(now=timezone.now() + timedelta(days=2))  # 7 days overdue: one week
    refreshed = Insight.objects.get(pk=insight.pk)
    assert refreshed.evidence == insight.evidence and refreshed.score == insight.score + 7
    assert refreshed.updated_at > insight.updated_at and refreshed.state == Insight.State.OPEN


def test_cause_gone_resolves(engagement_partners, rep):
    partner = engagement_partners["overdue"]
    insights_evaluate()
    insight = found("engagement_due")[partner.pk]
    activity_log(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=ago(0) - timedelta(minutes=5))
    insights_evaluate()
    insight.refresh_from_db()
    assert insight.state == Insight.State.RESOLVED and insight.resolved_at is not None
    assert partner.pk not in found("engagement_due")  # engaged now: due in 7 days, beyond the rule's 3


def test_dismissed_stays_dismissed_until_its_suppression_passes(engagement_partners):
    partner = engagement_partners["overdue"]
    insights_evaluate()
    insight = found("engagement_due")[partner.pk]
    Insight.objects.filter(pk=insight.pk).update(state=Insight.State.DISMISSED,
                                                 suppressed_until=timezone.now() + timedelta(days=10))
    insights_evaluate()
    insight.refresh_from_db()
    assert insight.state == Insight.State.DISMISSED
    insights_evaluate(now=timezone.now() + timedelta(days=11))
    insight.refresh_from_db()
    assert insight.state == Insight.State.OPEN  # same cause (same due date), suppression over
    assert insight.score == 80 + 30 + 14  # 16 days overdue: two whole weeks


def test_a_resolved_insight_reopens_when_its_cause_is_back(engagement_partners):
    partner = engagement_partners["overdue"]
    insights_evaluate()
    rule("engagement_due", enabled=False)
    insights_evaluate()
    rule("engagement_due", enabled=True)
    insights_evaluate()
    insight = Insight.objects.get(rule__code="engagement_due", partner=partner)
    assert insight.state == Insight.State.OPEN and insight.resolved_at is None


def test_snoozed_until_its_date(engagement_partners):
    partner = engagement_partners["overdue"]
    insights_evaluate()
    insight = found("engagement_due")[partner.pk]
    Insight.objects.filter(pk=insight.pk).update(state=Insight.State.SNOOZED,
                                                 snoozed_until=timezone.localdate() + timedelta(days=3))
    insights_evaluate()
    insight.refresh_from_db()
    assert insight.state == Insight.State.SNOOZED
    insights_evaluate(now=timezone.now() + timedelta(days=4))
    insight.refresh_from_db()
    assert insight.state == Insight.State.OPEN


def test_accepted_stays_accepted(engagement_partners):
    insights_evaluate()
    insight = found("engagement_due")[engagement_partners["overdue"].pk]
    Insight.objects.filter(pk=insight.pk).update(state=Insight.State.ACCEPTED)
    insights_evaluate()
    insight.refresh_from_db()
    assert insight.state == Insight.State.ACCEPTED


def test_one_partner_run_touches_only_that_partner(engagement_partners, rep):
    overdue, soon = engagement_partners["overdue"], engagement_partners["soon"]
    counts = insights_evaluate(partner_ids=[overdue.pk])
    assert set(found("engagement_due")) == {overdue.pk}
    assert counts["engagement_due"]["seen"] == 1
    insights_evaluate()
    seen_soon = found("engagement_due")[soon.pk].last_seen_at
    for partner in (overdue, soon):
        activity_log(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=ago(0) - timedelta(minutes=5))
    insights_evaluate(partner_ids=[overdue.pk])
    assert set(found("engagement_due")) == {soon.pk}  # soon's cause is gone too, but it was not evaluated
    assert found("engagement_due")[soon.pk].last_seen_at == seen_soon


# --- Rule 2: business drop -----------------------------------------------------------------------------------------


def _months_back(count):
    current = periods.period_start(periods.org_today(), "monthly")
    return periods.shift(current, "monthly", -count)


def test_business_drop_against_the_previous_periods_and_last_year(rep):
    leads = factories.parameter(Parameter.LEADS_GENERATED)
    dropped, steady, unassigned = (PartnerFactory(assigned_to=rep), PartnerFactory(assigned_to=rep),
                                   PartnerFactory(assigned_to=None))
    for partner in (dropped, steady, unassigned):
        for back in (2, 3, 4):
            AchievementFactory(partner=partner, parameter=leads, period_start=_months_back(back), value=6)
    AchievementFactory(partner=dropped, parameter=leads, period_start=_months_back(1), value=3)
    AchievementFactory(partner=dropped, parameter=leads, period_start=_months_back(13), value=10)
    AchievementFactory(partner=steady, parameter=leads, period_start=_months_back(1), value=6)
    # unassigned: nothing in the last month (a drop of 100 %), but nobody to act on it
    insights_evaluate()
    insights = found("business_drop")
    assert set(insights) == {dropped.pk}
    insight = insights[dropped.pk]
    last = _months_back(1)
    assert insight.fingerprint == f"business_drop:{dropped.pk}:leads_generated:{last.isoformat()}"
    assert insight.subject == "leads_generated" and insight.period_start == last
    e = insight.evidence
    assert (e["parameter"], e["unit"], e["period"], e["baseline_periods"]) == (
        "leads_generated", leads.unit, periods.label(last, "monthly"), 3)
    assert (e["value"], e["baseline"], e["drop_percent"]) == (3, 6, 50)
    assert e["same_period_last_year"] == {"period": periods.label(_months_back(13), "monthly"), "value": 10,
                                          "drop_percent": 70}
    assert insight.score == 70 + 20 + 35  # weight + Gold + the larger drop ÷ 2


def test_business_drop_ignores_a_baseline_below_the_minimum(rep):
    leads = factories.parameter(Parameter.LEADS_GENERATED)
    small, large = PartnerFactory(assigned_to=rep), PartnerFactory(assigned_to=rep)
    for partner, value in ((small, 2), (large, 3)):  # baselines 2 and 3 a month, nothing last month: -100 %
        for back in (2, 3, 4):
            AchievementFactory(partner=partner, parameter=leads, period_start=_months_back(back), value=value)
    AchievementFactory(partner=small, parameter=leads, period_start=_months_back(13), value=2)  # last year: 2
    assert Rule.objects.get(code="business_drop").minimum == 3  # the migration's default, in the parameter's unit
    insights_evaluate()
    assert set(found("business_drop")) == {large.pk}
    rule("business_drop", minimum=None)
    insights_evaluate()
    assert set(found("business_drop")) == {small.pk, large.pk}


def test_a_deactivated_parameter_stops_the_rule_without_error(rep):
    leads = factories.parameter(Parameter.LEADS_GENERATED)
    partner = PartnerFactory(assigned_to=rep)
    for back in (2, 3, 4):
        AchievementFactory(partner=partner, parameter=leads, period_start=_months_back(back), value=6)
    rule("business_drop", parameter=leads)
    rule("target_at_risk", parameter=leads)
    insights_evaluate()
    assert set(found("business_drop")) == {partner.pk}
    Parameter.objects.filter(pk=leads.pk).update(is_active=False)
    counts = insights_evaluate()
    assert found("business_drop") == {}
    assert counts["business_drop"] == {"seen": 0, "written": 0, "resolved": 1}
    assert counts["target_at_risk"]["seen"] == 0


# --- Rule 3: target at risk -------------------------------------------------------------------------------------------


def test_target_at_risk_by_pacing(rep):
    today = periods.org_today()
    current = periods.period_start(today, "monthly")
    now = timezone.make_aware(datetime(current.year, current.month, 16), timezone.get_default_timezone())
    days = (periods.period_end(current, "monthly") - current).days
    revenue = factories.parameter(Parameter.REVENUE)
    behind, on_pace, no_target = (PartnerFactory(assigned_to=rep) for _ in range(3))
    for partner, generated in ((behind, 100), (on_pace, 450)):
        TargetFactory(partner=partner, parameter=revenue, period_start=current, value=Decimal(1000))
        AchievementFactory(partner=partner, parameter=revenue, period_start=current, value=generated)
    insights_evaluate(now=now)
    insights = found("target_at_risk")
    assert set(insights) == {behind.pk}
    e = insights[behind.pk].evidence
    share = Decimal(15) / days
    assert e["target"] == 1000 and e["generated"] == 100
    # the figures and the period's dates, nothing that moves every day (the sentence computes the pacing)
    assert (e["period_start"], e["period_end"]) == (current.isoformat(), periods.period_end(current, "monthly")
                                                    .isoformat())
    assert not {"expected_so_far", "elapsed_percent", "pacing_percent"} & set(e)
    pacing = 100 / (1000 * round(share, 6)) * 100  # ~20 %: 80 points behind, in steps of 10 → 40
    assert insights[behind.pk].score == 60 + 20 + int((100 - pacing) // 10) * 5
    assert e["period"] == periods.label(current, "monthly") and e["unit"] == revenue.unit
    counts = insights_evaluate(now=now + timedelta(days=1))  # a day later, the same figures: not rewritten
    assert counts["target_at_risk"] == {"seen": 1, "written": 0, "resolved": 0}


def test_target_at_risk_ignores_a_target_below_the_minimum(rep):
    current = periods.period_start(periods.org_today(), "monthly")
    now = timezone.make_aware(datetime(current.year, current.month, 16), timezone.get_default_timezone())
    leads = factories.parameter(Parameter.LEADS_GENERATED)
    small, large = PartnerFactory(assigned_to=rep), PartnerFactory(assigned_to=rep)
    for partner, target in ((small, 2), (large, 3)):  # nothing generated by mid-month
        TargetFactory(partner=partner, parameter=leads, period_start=current, value=Decimal(target))
    insights_evaluate(now=now)
    assert set(found("target_at_risk")) == {large.pk}  # minimum 3 (the default): a target of 2 is ignored
    rule("target_at_risk", minimum=Decimal("0"))
    insights_evaluate(now=now)
    assert set(found("target_at_risk")) == {small.pk, large.pk}


# --- Rule 4: no next engagement ---------------------------------------------------------------------------------------


def test_no_next_engagement_for_platinum_and_gold_without_a_planned_meeting(rep):
    gold, planned, _silver = (PartnerFactory(assigned_to=rep), PartnerFactory(assigned_to=rep),
                             PartnerFactory(assigned_to=rep, tier=factories.tier("Silver")))
    ActivityFactory(partner=planned, mode=Activity.Mode.SCHEDULED, status=Activity.Status.PLANNED,
                    start_at=timezone.now() + timedelta(days=2))
    # a planned meeting that already passed does not count as "next"
    ActivityFactory(partner=gold, mode=Activity.Mode.SCHEDULED, status=Activity.Status.PLANNED, start_at=ago(1))
    insights_evaluate()
    insights = found("no_next_engagement")
    assert set(insights) == {gold.pk}
    assert insights[gold.pk].evidence == {"tier": "Gold", "last_engaged": None}
    assert insights[gold.pk].fingerprint == f"no_next_engagement:{gold.pk}:never"


# --- Rule 5: inactivity risk ------------------------------------------------------------------------------------------


def test_inactivity_risk_within_the_rule_days(rep):
    InactivityRule.load()  # engagement rule on, grace 1.5: Gold (14 days) is tagged after 21 days
    at_risk = PartnerFactory(assigned_to=rep, last_engaged_at=ago(10))  # 24 days in 14 days' time
    safe = PartnerFactory(assigned_to=rep, last_engaged_at=ago(2))  # 16 days in 14 days' time
    inactive = PartnerFactory(assigned_to=rep, last_engaged_at=ago(10), status=Partner.Status.INACTIVE)
    Partner.objects.filter(pk__in=[at_risk.pk, safe.pk, inactive.pk]).update(created_at=ago(100))
    insights_evaluate()
    insights = found("inactivity_risk")
    assert set(insights) == {at_risk.pk}
    e = insights[at_risk.pk].evidence
    # an engagement rule's reason counts days: rendered from the dates (the row does not change every night)
    assert (e["reason"], e["since"], e["every_days"]) == ("", periods.org_today(ago(10)).isoformat(), 14)
    assert (e["tier"], e["within_days"]) == ("Gold", 14)
    assert "not engaged for 10 days (Gold: every 14)" in insight_sentence(insights[at_risk.pk])
    assert insights[at_risk.pk].score == 90 + 20
    rule("inactivity_risk", days=3)  # 13 days in 3 days' time: not yet
    insights_evaluate()
    assert found("inactivity_risk") == {}


def test_inactivity_risk_with_the_engagement_rule_off_finds_nothing(rep):
    settings_row = InactivityRule.load()
    settings_row.engagement_enabled = False
    settings_row.save()
    PartnerFactory(assigned_to=rep, last_engaged_at=ago(30))
    assert insights_evaluate()["inactivity_risk"]["seen"] == 0


# --- Rule 6: lead follow-up -------------------------------------------------------------------------------------------


def test_lead_follow_up(rep):
    partner = PartnerFactory(assigned_to=rep)
    stale = LeadFactory(partner=partner, created_at=ago(10), name="Acme Corp")
    touched = LeadFactory(partner=partner, created_at=ago(10))
    activity_log(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=ago(0), lead=touched)  # a touch, now
    planned = LeadFactory(partner=partner, created_at=ago(10))
    ActivityFactory(partner=partner, lead=planned, mode=Activity.Mode.SCHEDULED, status=Activity.Status.PLANNED,
                    start_at=timezone.now() + timedelta(days=1))
    LeadFactory(partner=partner, created_at=ago(10), stage=Lead.Stage.WON)
    LeadFactory(partner=partner, created_at=ago(3))  # young
    insights_evaluate()
    insights = list(Insight.objects.filter(rule__code="lead_follow_up"))
    assert [i.subject for i in insights] == ["leads"]
    e = insights[0].evidence
    assert (e["lead"], e["stage"], e["stage_label"], e["touched_on"], e["lead_id"], e["untouched"]) == (
        "Acme Corp", "new", "New", periods.org_today(ago(10)).isoformat(), stale.pk, 1)
    assert insights[0].score == 40 + 20 + 0  # 3 days beyond the rule's 7: no whole week yet


def test_one_lead_follow_up_per_partner_the_oldest_lead_and_the_count(rep):
    partner = PartnerFactory(assigned_to=rep)
    newer = LeadFactory(partner=partner, created_at=ago(10), name="Newer")
    oldest = LeadFactory(partner=partner, created_at=ago(30), name="Oldest")
    LeadFactory(partner=partner, created_at=ago(20))
    other = PartnerFactory(assigned_to=rep)
    LeadFactory(partner=other, created_at=ago(9))
    counts = insights_evaluate()
    assert counts["lead_follow_up"] == {"seen": 2, "written": 2, "resolved": 0}
    insight = found("lead_follow_up")[partner.pk]
    assert (insight.evidence["lead_id"], insight.evidence["untouched"]) == (oldest.pk, 3)
    assert insight.fingerprint == f"lead_follow_up:{partner.pk}:{oldest.pk}:{periods.org_today(ago(30)).isoformat()}"
    assert insight.score == 40 + 20 + 21  # 23 days beyond the rule's 7: three whole weeks
    assert "; 2 more leads without follow-up" in insight_sentence(insight)
    # the oldest lead is followed up: the next oldest becomes the cause (a new insight), the old one resolves
    activity_log(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=ago(0), lead=oldest)
    counts = insights_evaluate()
    assert counts["lead_follow_up"] == {"seen": 2, "written": 1, "resolved": 1}
    insight.refresh_from_db()
    assert insight.state == Insight.State.RESOLVED
    again = found("lead_follow_up")[partner.pk]
    assert again.evidence["untouched"] == 2 and again.evidence["lead_id"] != newer.pk


# --- The signal path --------------------------------------------------------------------------------------------------


def test_an_activity_logged_resolves_the_engagement_insight_after_commit(
    engagement_partners, rep, django_capture_on_commit_callbacks
):
    """insights.signals enqueues the partner's evaluation once the activity commits; Celery eager (as with
    CELERY_EAGER=True) runs it in this process, through the real task."""
    from prm.celery import app

    partner = engagement_partners["overdue"]
    insights_evaluate()
    insight = found("engagement_due")[partner.pk]
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            activity_log(partner=partner, by=rep, kind=Activity.Kind.MEETING, start_at=ago(0) - timedelta(hours=1))
        assert callbacks
    finally:
        app.conf.task_always_eager = eager
    insight.refresh_from_db()
    assert insight.state == Insight.State.RESOLVED


def test_nothing_is_enqueued_before_commit(engagement_partners, rep, django_capture_on_commit_callbacks):
    partner = engagement_partners["overdue"]
    insights_evaluate()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        activity_log(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=ago(0) - timedelta(hours=1))
    assert callbacks  # enqueued on commit only
    assert found("engagement_due")[partner.pk].state == Insight.State.OPEN


def test_the_command(engagement_partners):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("evaluate_insights", "--partner", str(engagement_partners["overdue"].pk), stdout=out)
    assert "engagement_due: 1 found, 1 written, 0 resolved" in out.getvalue()
    assert set(found("engagement_due")) == {engagement_partners["overdue"].pk}
