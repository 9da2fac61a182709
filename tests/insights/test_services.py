"""insights.services: accept, dismiss, snooze — what each writes, what it refuses (naming the field), and that a
second call (a double click) changes nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from activities.models import Activity
from insights import services
from insights.models import Insight, Rule
from tests import factories
from tests.insights.reacting import make_insight

pytestmark = pytest.mark.django_db


@pytest.fixture
def insight(rep):
    return make_insight(factories.PartnerFactory(assigned_to=rep))


def test_accept_marks_it_accepted_once(insight, rep, other_rep):
    assert services.insight_accept(insight=insight, by=rep) is True
    insight.refresh_from_db()
    assert insight.state == Insight.State.ACCEPTED and insight.reacted_by == rep and insight.reacted_at
    first = insight.reacted_at
    assert services.insight_accept(insight=insight, by=other_rep) is False  # the double click
    insight.refresh_from_db()
    assert (insight.reacted_by, insight.reacted_at) == (rep, first)


def test_dismiss_suppresses_for_the_rules_days(insight, rep):
    Rule.objects.filter(pk=insight.rule_id).update(suppression_days=21)
    insight.rule.refresh_from_db()
    before = timezone.now()
    assert services.insight_dismiss(insight=insight, by=rep, reason="  Already in hand  ") is True
    insight.refresh_from_db()
    assert insight.state == Insight.State.DISMISSED and insight.dismiss_reason == "Already in hand"
    assert before + timedelta(days=21) <= insight.suppressed_until <= timezone.now() + timedelta(days=21)
    assert services.insight_dismiss(insight=insight, by=rep, reason="again") is False
    insight.refresh_from_db()
    assert insight.dismiss_reason == "Already in hand"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_dismiss_needs_a_short_reason(insight, rep, reason):
    with pytest.raises(ValidationError) as error:
        services.insight_dismiss(insight=insight, by=rep, reason=reason)
    assert "reason" in error.value.message_dict
    insight.refresh_from_db()
    assert insight.state == Insight.State.OPEN and insight.reacted_at is None


def test_a_200_character_reason_is_fine(insight, rep):
    assert services.insight_dismiss(insight=insight, by=rep, reason="x" * 200)


@pytest.mark.parametrize("days", [1, 90])
def test_snooze_from_tomorrow_to_90_days(insight, rep, days):
    until = timezone.localdate() + timedelta(days=days)
    assert services.insight_snooze(insight=insight, by=rep, until=until) is True
    insight.refresh_from_db()
    assert (insight.state, insight.snoozed_until, insight.reacted_by) == (Insight.State.SNOOZED, until, rep)
    first = insight.reacted_at
    assert services.insight_snooze(insight=insight, by=rep, until=until) is False  # the double click
    insight.refresh_from_db()
    assert insight.reacted_at == first


@pytest.mark.parametrize("days", [-1, 0, 91])
def test_snooze_outside_the_range_is_refused(insight, rep, days):
    with pytest.raises(ValidationError) as error:
        services.insight_snooze(insight=insight, by=rep, until=timezone.localdate() + timedelta(days=days))
    assert "until" in error.value.message_dict
    insight.refresh_from_db()
    assert insight.state == Insight.State.OPEN


def test_a_snoozed_insight_can_still_be_dismissed_but_a_resolved_one_cannot(insight, rep):
    services.insight_snooze(insight=insight, by=rep, until=timezone.localdate() + timedelta(days=3))
    assert services.insight_dismiss(insight=insight, by=rep, reason="Not relevant") is True
    resolved = make_insight(insight.partner, state=Insight.State.RESOLVED)
    assert services.insight_accept(insight=resolved, by=rep) is False
    assert services.insight_snooze(insight=resolved, by=rep, until=timezone.localdate() + timedelta(days=3)) is False


def test_accept_with_activity_writes_both_or_neither(insight, rep):
    partner = insight.partner
    start = timezone.now() + timedelta(days=1)
    engagement = {"kind": "meeting", "start_at": start, "duration_minutes": 30, "location": None, "place": "",
                  "subject": "Catch up"}
    activity = services.insight_accept_with_activity(insight=insight, by=rep, log=False, engagement=engagement)
    assert (activity.partner_id, activity.kind, activity.status) == (partner.pk, "meeting", Activity.Status.PLANNED)
    insight.refresh_from_db()
    assert insight.state == Insight.State.ACCEPTED
    # The same form posted again: refused, and no second meeting.
    with pytest.raises(ValidationError):
        services.insight_accept_with_activity(insight=insight, by=rep, log=False, engagement=engagement)
    assert Activity.objects.filter(partner=partner).count() == 1


def test_a_bad_activity_leaves_the_insight_open(insight, rep):
    engagement = {"kind": "call", "start_at": timezone.now() + timedelta(hours=1), "outcome": "", "subject": ""}
    with pytest.raises(ValidationError):  # a log of the future
        services.insight_accept_with_activity(insight=insight, by=rep, log=True, engagement=engagement)
    insight.refresh_from_db()
    assert insight.state == Insight.State.OPEN and not Activity.objects.exists()


def test_the_lead_of_a_follow_up_is_the_partners_only(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    lead = factories.LeadFactory(partner=partner)
    other = factories.LeadFactory(partner=factories.PartnerFactory(assigned_to=rep))
    assert services.insight_lead(make_insight(partner, Rule.Code.LEAD_FOLLOW_UP, subject=f"lead:{lead.pk}")) == lead
    assert services.insight_lead(make_insight(partner, Rule.Code.LEAD_FOLLOW_UP, subject=f"lead:{other.pk}")) is None
    assert services.insight_lead(make_insight(partner, subject="lead:x")) is None
    # one follow-up per partner: subject "leads", the oldest untouched lead's id in the evidence
    assert services.insight_lead(make_insight(partner, Rule.Code.LEAD_FOLLOW_UP, subject="leads",
                                              evidence={"lead_id": lead.pk, "untouched": 2})) == lead
    assert services.insight_lead(make_insight(partner, Rule.Code.LEAD_FOLLOW_UP, subject="leads",
                                              evidence={"lead_id": other.pk})) is None
    assert services.insight_lead(make_insight(partner, Rule.Code.LEAD_FOLLOW_UP, subject="leads",
                                              evidence={"lead_id": "x"})) is None
