"""insights.sentences: one sentence per rule from its evidence, numbers through prm.formats; never raises."""

from datetime import date

import pytest

from insights.models import Insight, Rule
from insights.sentences import insight_sentence, sentence_for

TODAY = date(2026, 11, 23)


def test_engagement_due_counts_the_days_from_the_stored_dates():
    evidence = {"tier": "Platinum", "every_days": 7, "last_engaged": "2026-11-11", "due_on": "2026-11-18"}
    assert sentence_for("engagement_due", evidence, today=TODAY) == (
        "Platinum partner: engage every 7 days; last engaged 12 days ago; overdue by 5 days. Schedule a meeting now."
    )
    assert sentence_for("engagement_due", evidence, today=date(2026, 11, 24)) == (  # the next day, same evidence
        "Platinum partner: engage every 7 days; last engaged 13 days ago; overdue by 6 days. Schedule a meeting now."
    )
    soon = {"tier": "Gold", "every_days": 14, "last_engaged": "2026-11-11", "due_on": "2026-11-25"}
    assert sentence_for("engagement_due", soon, today=TODAY).endswith("; due in 2 days. Schedule a meeting now.")
    never = {"tier": "Gold", "every_days": 14, "last_engaged": None, "due_on": "2026-11-23"}
    assert sentence_for("engagement_due", never, today=TODAY) == (
        "Gold partner: engage every 14 days; never engaged yet; due today. Schedule a meeting now."
    )


def test_engagement_due_of_older_evidence_with_day_counts():
    evidence = {"tier": "Platinum", "every_days": 7, "last_engaged": "2026-11-11", "days_since": 3,
                "days_overdue": 5}  # no due date: its stored count; a date beats a stored count (that was then)
    assert sentence_for("engagement_due", evidence, today=TODAY) == (
        "Platinum partner: engage every 7 days; last engaged 12 days ago; overdue by 5 days. Schedule a meeting now."
    )
    soon = {**evidence, "days_since": 12, "days_overdue": -2, "tier": "Gold", "every_days": 14}
    assert sentence_for("engagement_due", soon).endswith("; due in 2 days. Schedule a meeting now.")
    never = {"tier": "Gold", "every_days": 14, "last_engaged": None, "days_since": None, "days_overdue": 0}
    assert sentence_for("engagement_due", never) == (
        "Gold partner: engage every 14 days; never engaged yet; due today. Schedule a meeting now."
    )


def test_business_drop():
    evidence = {"parameter": "leads_generated", "parameter_name": "Leads generated", "unit": "count",
                "frequency": "monthly", "period": "2026-10", "value": 3, "baseline": 6.0, "baseline_periods": 5,
                "drop_percent": 50.0}
    assert sentence_for("business_drop", evidence) == (
        "Leads generated down 50 % in Oct 2026 (3 vs 6 a month over the previous 5 months). Find out why."
    )
    with_year = {**evidence, "parameter_name": "Revenue", "unit": "INR", "value": 12500.5, "baseline": 25000,
                 "same_period_last_year": {"period": "2025-10", "value": 30000, "drop_percent": 58.3}}
    assert sentence_for("business_drop", with_year) == (
        "Revenue down 50 % in Oct 2026 (INR 12,500.50 vs INR 25,000 a month over the previous 5 months);"
        " INR 30,000 in Oct 2025. Find out why."
    )
    only_year = {**with_year, "drop_percent": -10.0}
    assert sentence_for("business_drop", only_year) == (
        "Revenue down 58 % in Oct 2026 against Oct 2025 (INR 12,500.50 vs INR 30,000). Find out why."
    )


def test_target_at_risk_computes_the_pacing_for_the_day():
    evidence = {"parameter": "revenue", "parameter_name": "Revenue", "unit": "INR", "period": "2026-11",
                "frequency": "monthly", "period_start": "2026-11-01", "period_end": "2026-12-01",
                "target": 75000, "generated": 20000}
    assert sentence_for("target_at_risk", evidence, today=date(2026, 11, 19)) == (
        "Revenue behind target for Nov 2026: INR 20,000 generated, INR 45,000 expected by now"
        " (60 % of the month gone, target INR 75,000). Plan a push."
    )
    assert "INR 47,500 expected by now (63 % of" in sentence_for("target_at_risk", evidence, today=date(2026, 11, 20))


def test_target_at_risk_of_older_evidence():
    evidence = {"parameter": "revenue", "parameter_name": "Revenue", "unit": "INR", "period": "2026-11",
                "target": 75000, "generated": 20000, "expected_so_far": 45000, "elapsed_percent": 60.0,
                "pacing_percent": 44.4}
    assert sentence_for("target_at_risk", evidence) == (
        "Revenue behind target for Nov 2026: INR 20,000 generated, INR 45,000 expected by now"
        " (60 % of the month gone, target INR 75,000). Plan a push."
    )


def test_no_next_engagement():
    assert sentence_for("no_next_engagement", {"tier": "Gold", "last_engaged": "2026-11-03"}, today=TODAY) == (
        "Gold partner with no next engagement planned; last engaged 20 days ago. Schedule one."
    )
    assert sentence_for("no_next_engagement", {"tier": "Gold", "last_engaged": "bad", "days_since": 20}) == (
        "Gold partner with no next engagement planned; last engaged 20 days ago. Schedule one."
    )
    assert sentence_for("no_next_engagement", {"tier": "Platinum", "last_engaged": None, "days_since": None}) == (
        "Platinum partner with no next engagement planned; never engaged yet. Schedule one."
    )


def test_inactivity_risk_of_an_engagement_rule_from_the_dates():
    evidence = {"reason": "", "tier": "Gold", "every_days": 14, "within_days": 14, "last_engaged": "2026-11-04",
                "since": "2026-11-04"}
    assert sentence_for("inactivity_risk", evidence, today=TODAY) == (
        "About to be tagged inactive (within 14 days): not engaged for 19 days (Gold: every 14). Engage now."
    )


def test_inactivity_risk():
    evidence = {"reason": "not engaged for 19 days (Gold: every 14)", "tier": "Gold", "within_days": 14,
                "last_engaged": "2026-11-04"}
    assert sentence_for("inactivity_risk", evidence) == (
        "About to be tagged inactive (within 14 days): not engaged for 19 days (Gold: every 14). Engage now."
    )


def test_lead_follow_up_the_oldest_lead_and_how_many_wait():
    evidence = {"lead_id": 7, "lead": "Acme Corp", "company": "", "stage": "contacted", "stage_label": "Contacted",
                "touched_on": "2026-11-11", "untouched": 3}
    assert sentence_for("lead_follow_up", evidence, today=TODAY) == (
        "Lead “Acme Corp” (Contacted): no follow-up for 12 days; 2 more leads without follow-up. Follow up."
    )
    assert sentence_for("lead_follow_up", {**evidence, "untouched": 1}, today=TODAY) == (
        "Lead “Acme Corp” (Contacted): no follow-up for 12 days. Follow up."
    )


def test_lead_follow_up():
    evidence = {"lead_id": 7, "lead": "Acme Corp", "company": "", "stage": "contacted", "stage_label": "Contacted",
                "days_since": 12}
    assert sentence_for("lead_follow_up", evidence) == (
        "Lead “Acme Corp” (Contacted): no follow-up for 12 days. Follow up."
    )


def test_insight_sentence_reads_the_rule_and_the_evidence():
    insight = Insight(rule=Rule(code="lead_follow_up"), evidence={"lead": "Acme", "days_since": 1})
    assert insight_sentence(insight) == "Lead “Acme”: no follow-up for 1 day. Follow up."


@pytest.mark.parametrize("code", [c for c in Rule.Code.values if c != "tier_review"])
@pytest.mark.parametrize("evidence", [{}, None, [], "text", {"days_since": "x", "value": None, "tier": None},
                                      {"same_period_last_year": "bad", "drop_percent": "n/a"},
                                      {"due_on": "2026-13-40", "last_engaged": "2026-11-01", "period_start": 5,
                                       "period_end": "2026-11-01", "target": "x", "touched_on": [], "since": None,
                                       "untouched": "many"},
                                      {"period_start": "2026-11-01", "period_end": "2026-11-01", "target": 10}])
def test_older_or_odd_evidence_never_raises(code, evidence):
    text = sentence_for(code, evidence)
    assert isinstance(text, str) and text.endswith(".")


def test_an_unknown_rule_gets_a_plain_sentence():
    assert sentence_for("nope", {"x": 1}) == "Suggestion."
    assert insight_sentence(object()) == "Suggestion."
