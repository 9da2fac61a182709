"""insights.selectors: who sees which insight, what is shown (not snoozed, not suppressed, rule on), the ranking, one
query per list, and the rates per rule."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from insights.models import Insight, Rule
from insights.selectors import (
    insight_get_for_user,
    insight_visible_to,
    insights_for_partner,
    insights_for_today,
    rule_rates,
)
from partners.models import Partner
from partners.selectors import partner_today_scope, user_sees_all_partners
from tests import factories
from tests.insights.reacting import make_insight

pytestmark = pytest.mark.django_db


def test_a_rep_sees_the_insights_of_their_partners_only(rep, other_rep, manager):
    mine = make_insight(factories.PartnerFactory(assigned_to=rep))
    theirs = make_insight(factories.PartnerFactory(assigned_to=other_rep))
    assert list(insight_visible_to(rep)) == [mine]
    assert insight_get_for_user(rep, mine.pk) == mine
    with pytest.raises(Http404):
        insight_get_for_user(rep, theirs.pk)
    assert set(insight_visible_to(manager)) == {mine, theirs}


def test_tier_reviews_are_for_managers(rep, manager):
    review = make_insight(factories.PartnerFactory(assigned_to=rep), Rule.Code.TIER_REVIEW)
    with pytest.raises(Http404):
        insight_get_for_user(rep, review.pk)
    assert insight_get_for_user(manager, review.pk) == review
    partner = review.partner
    assert insights_for_partner(partner=partner, sees_all=False) == []
    assert insights_for_partner(partner=partner, sees_all=True) == [review]


def test_only_what_should_be_seen_now_is_shown(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    now, today = timezone.now(), timezone.localdate()
    shown = [
        make_insight(partner, score=10),
        make_insight(partner, score=30, suppressed_until=now - timedelta(hours=1)),  # reopened after suppression
    ]
    make_insight(partner, score=90, state=Insight.State.SNOOZED, snoozed_until=today + timedelta(days=1))
    # Its day has come, but only the evaluation reopens it (if its cause is still there): not shown before then.
    make_insight(partner, score=90, state=Insight.State.SNOOZED, snoozed_until=today)
    make_insight(partner, score=90, suppressed_until=now + timedelta(days=1))  # found again, still suppressed
    for state in (Insight.State.DISMISSED, Insight.State.ACCEPTED, Insight.State.RESOLVED):
        make_insight(partner, score=90, state=state)
    make_insight(partner, Rule.Code.BUSINESS_DROP, score=95)
    Rule.objects.filter(code=Rule.Code.BUSINESS_DROP).update(enabled=False)  # a rule turned off shows nothing
    assert insights_for_partner(partner=partner, sees_all=False, limit=10) == shown[::-1]


def test_partner_insights_ranked_by_score_in_one_query(rep, django_assert_num_queries):
    partner = factories.PartnerFactory(assigned_to=rep)
    for score in (5, 70, 40, 90, 10):
        make_insight(partner, score=score)
    make_insight(factories.PartnerFactory(assigned_to=rep), score=100)  # another partner's
    # 1. the top open insights of the partner with their rule (the sentence is rendered from the evidence: no query).
    with django_assert_num_queries(1):
        rows = insights_for_partner(partner=partner, sees_all=False)
        sentences = [insight.sentence for insight in rows]
        names = [insight.partner.name for insight in rows]
    assert [insight.score for insight in rows] == [90, 70, 40]
    assert all(sentences) and names == [partner.name] * 3


def test_today_ranks_across_the_reps_partners_in_one_query(rep, other_rep, django_assert_num_queries):
    for number in range(8):
        partner = factories.PartnerFactory(assigned_to=rep, tier=factories.tier(["Platinum", "Gold"][number % 2]))
        make_insight(partner, score=number * 10)
        make_insight(partner, Rule.Code.NO_NEXT_ENGAGEMENT, score=number * 10 + 5)
    make_insight(factories.PartnerFactory(assigned_to=other_rep), score=1000)
    scope = partner_today_scope(user=rep)
    user_sees_all_partners(rep)  # once per request, cached on the user (Today asks it first)
    # 1. the top insights of the rep's partners, with rule, partner and tier, best first.
    with django_assert_num_queries(1):
        rows = insights_for_today(partners=scope, sees_all=False, limit=10)
        shown = [(insight.partner.name, insight.partner.tier.name, insight.rule.code, insight.sentence) for insight in rows]
    assert len(shown) == 10
    assert [insight.score for insight in rows] == sorted((insight.score for insight in rows), reverse=True)
    assert rows[0].score == 75 and all(insight.partner.assigned_to_id == rep.pk for insight in rows)


def test_rule_rates_count_every_state_in_one_query(rep, django_assert_num_queries):
    partner = factories.PartnerFactory(assigned_to=rep)
    states = ["accepted", "accepted", "accepted", "dismissed", "snoozed", "open", "resolved", "open"]
    for state in states:
        make_insight(partner, state=state)
    make_insight(partner, Rule.Code.BUSINESS_DROP, state="dismissed")
    # 1. every rule with its insights counted per state (one GROUP BY).
    with django_assert_num_queries(1):
        rates = {row.rule.code: row for row in rule_rates()}
    assert len(rates) == Rule.objects.count() == 8  # seven, and ticket_breach (issue 13)
    due = rates["engagement_due"]
    assert (due.total, due.open, due.accepted, due.dismissed, due.snoozed, due.resolved) == (8, 2, 3, 1, 1, 1)
    assert (due.acceptance, due.dismissal) == (37.5, 12.5)
    assert rates["business_drop"].dismissal == 100
    assert rates["inactivity_risk"].total == 0 and rates["inactivity_risk"].acceptance is None


def test_partners_scope_is_respected_for_a_managers_rep_filter(rep, other_rep, manager):
    mine = make_insight(factories.PartnerFactory(assigned_to=rep))
    make_insight(factories.PartnerFactory(assigned_to=other_rep))
    assert insights_for_today(partners=partner_today_scope(user=manager, rep="rep1"), sees_all=True) == [mine]
    both = insights_for_today(partners=Partner.objects.all(), sees_all=True, whole_team=True)  # the index walk
    assert both == insights_for_today(partners=Partner.objects.all(), sees_all=True) and len(both) == 2
