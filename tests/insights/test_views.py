"""The insight cards' pages: Accept (prefilled form → saved activity → accepted), Dismiss, Snooze, each a 404 for
someone else's insight on every verb; Today and the partner page show the cards; the managers' rates page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.models import Activity
from insights.models import Insight, Rule
from tests import factories
from tests.insights.reacting import make_insight

pytestmark = pytest.mark.django_db

TODAY = "/today/"


def url(insight, verb):
    return f"/insights/{insight.pk}/{verb}/"


@pytest.fixture
def partner(rep):
    return factories.PartnerFactory(assigned_to=rep, name="Asha Traders", tier=factories.tier("Platinum"))


@pytest.fixture
def insight(partner):
    return make_insight(partner, evidence={"tier": "Platinum", "every_days": 7, "days_overdue": 5}, score=87)


def in_a_week():
    return (timezone.localdate() + timedelta(days=7)).isoformat()


@pytest.mark.parametrize("verb", ["accept", "dismiss", "snooze"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_someone_elses_insight_is_a_404_on_every_verb(rep_client, other_rep, verb, method):
    theirs = make_insight(factories.PartnerFactory(assigned_to=other_rep))
    data = {"reason": "Already in hand", "until": in_a_week()} if method == "post" else {}
    response = getattr(rep_client, method)(url(theirs, verb), data)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == Insight.State.OPEN and theirs.reacted_at is None


def test_a_missing_insight_is_a_404(rep_client):
    assert rep_client.post("/insights/999999/dismiss/", {"reason": "Already in hand"}).status_code == 404


def test_today_and_the_partner_page_show_the_card(rep_client, partner, insight):
    for page in (TODAY, f"/partners/{partner.pk}/"):
        html = rep_client.get(page).content.decode()
        assert "What to do next" in html and f'id="insight-{insight.pk}"' in html
        assert "Platinum partner: engage every 7 days; overdue by 5 days. Schedule a meeting now." in html
        assert url(insight, "dismiss") in html and url(insight, "snooze") in html and url(insight, "accept") in html
    assert "Insight rules" not in rep_client.get(TODAY).content.decode()  # the managers' link


def test_dismiss_from_today_returns_to_today_and_hides_it(rep_client, rep, insight):
    response = rep_client.post(url(insight, "dismiss"), {"reason": "Not relevant for this partner", "note": "seasonal",
                                                         "next": "/today/?rep="})
    assert response.status_code == 302 and response["Location"] == "/today/?rep="
    insight.refresh_from_db()
    assert insight.state == Insight.State.DISMISSED and insight.reacted_by == rep
    assert insight.dismiss_reason == "Not relevant for this partner — seasonal"
    assert insight.suppressed_until > timezone.now() + timedelta(days=insight.rule.suppression_days - 1)
    assert f'id="insight-{insight.pk}"' not in rep_client.get(TODAY).content.decode()
    # A second click changes nothing and still goes back.
    assert rep_client.post(url(insight, "dismiss"), {"reason": "Already in hand"}).status_code == 302
    insight.refresh_from_db()
    assert insight.dismiss_reason == "Not relevant for this partner — seasonal"


@pytest.mark.parametrize("data, field, message", [
    ({}, "reason", "Say why you dismiss this suggestion."),
    ({"reason": "other", "note": " "}, "note", "Say why you dismiss this suggestion."),
    ({"reason": "made up"}, "reason", "Select a valid choice."),
])
def test_dismiss_needs_a_reason(rep_client, insight, data, field, message):
    response = rep_client.post(url(insight, "dismiss"), data)
    assert response.status_code == 400
    assert response.context["dismiss_form"].errors[field][0].startswith(message)
    html = response.content.decode()
    assert message in html and "<details class=\"insight-more insight-dismiss\" open>" in html
    insight.refresh_from_db()
    assert insight.state == Insight.State.OPEN


def test_other_with_a_note_keeps_the_note(rep_client, insight):
    rep_client.post(url(insight, "dismiss"), {"reason": "other", "note": "Owner retiring"})
    insight.refresh_from_db()
    assert (insight.state, insight.dismiss_reason) == (Insight.State.DISMISSED, "Owner retiring")


def test_next_to_another_site_is_ignored(rep_client, partner, insight):
    response = rep_client.post(url(insight, "snooze"), {"until": in_a_week(), "next": "https://evil.example/"})
    assert response["Location"] == f"/partners/{partner.pk}/"


def test_snooze_hides_it_until_the_date(rep_client, insight):
    response = rep_client.post(url(insight, "snooze"), {"until": in_a_week(), "next": TODAY})
    assert response["Location"] == TODAY
    insight.refresh_from_db()
    assert insight.state == Insight.State.SNOOZED and insight.snoozed_until.isoformat() == in_a_week()
    assert f'id="insight-{insight.pk}"' not in rep_client.get(TODAY).content.decode()


@pytest.mark.parametrize("until", ["", "not a date", "today", "2999-01-01"])
def test_a_bad_snooze_date_is_an_error_on_the_field(rep_client, insight, until):
    if until == "today":
        until = timezone.localdate().isoformat()
    response = rep_client.post(url(insight, "snooze"), {"until": until})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="errorlist' in html and f'id="snooze-until-{insight.pk}"' in html
    insight.refresh_from_db()
    assert insight.state == Insight.State.OPEN


def test_get_dismiss_shows_the_card_page(rep_client, insight):
    response = rep_client.get(url(insight, "dismiss"))
    assert response.status_code == 200 and f'id="insight-{insight.pk}"' in response.content.decode()


def test_accept_opens_the_prefilled_form_and_saving_accepts(rep_client, rep, partner, insight):
    response = rep_client.get(url(insight, "accept"), {"next": TODAY})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["kind"] == "meeting"
    html = response.content.decode()
    assert "Schedule a meeting" in html and "Platinum partner: engage every 7 days" in html
    assert Activity.objects.count() == 0 and Insight.objects.get().state == "open"  # opening the form changes nothing
    start = (timezone.localtime() + timedelta(days=1)).replace(second=0, microsecond=0)
    data = {"kind": "meeting", "start_at": start.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": "45",
            "subject": "Quarterly review", "next": TODAY}
    response = rep_client.post(url(insight, "accept") + "?next=/today/", data)
    assert response.status_code == 302 and response["Location"] == TODAY
    activity = Activity.objects.get()
    assert (activity.partner_id, activity.kind, activity.status, activity.owner) == (
        partner.pk, "meeting", Activity.Status.PLANNED, rep)
    assert activity.start_at == start and activity.subject == "Quarterly review"
    insight.refresh_from_db()
    assert insight.state == Insight.State.ACCEPTED and insight.reacted_by == rep
    # The same form sent twice (double tap): told it is done, no second meeting.
    response = rep_client.post(url(insight, "accept"), data)
    assert response.status_code == 302 and Activity.objects.count() == 1


def test_accept_with_a_bad_form_accepts_nothing(rep_client, insight):
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = rep_client.post(url(insight, "accept"), {"kind": "meeting", "start_at": past, "duration_minutes": "30"})
    assert response.status_code == 200 and response.context["form"].errors["start_at"]
    insight.refresh_from_db()
    assert insight.state == Insight.State.OPEN and not Activity.objects.exists()


def test_a_business_drop_opens_the_call_log(rep_client, rep, partner):
    drop = make_insight(partner, Rule.Code.BUSINESS_DROP, evidence={"parameter_name": "Revenue", "drop_percent": 50})
    response = rep_client.get(url(drop, "accept"))
    initial = response.context["form"].initial
    assert (initial["kind"], initial["channel"]) == ("call", "call") and "Revenue down 50 %" in initial["subject"]
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = rep_client.post(url(drop, "accept"), {"kind": "call", "channel": "call", "start_at": now,
                                                     "subject": initial["subject"], "outcome": "Lost a customer"})
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.mode, activity.status, activity.outcome) == ("logged", "done", "Lost a customer")
    drop.refresh_from_db()
    assert drop.state == Insight.State.ACCEPTED


@pytest.mark.parametrize("by_evidence", [True, False], ids=["one-per-partner", "older-per-lead"])
def test_a_lead_follow_up_schedules_a_call_on_the_lead(rep_client, partner, by_evidence):
    lead = factories.LeadFactory(partner=partner, name="Acme")
    # one follow-up per partner (subject "leads": the oldest untouched lead in the evidence), or an older per-lead one
    follow = make_insight(partner, Rule.Code.LEAD_FOLLOW_UP, subject="leads" if by_evidence else f"lead:{lead.pk}",
                          evidence={"lead": "Acme", "lead_id": lead.pk, "untouched": 3})
    response = rep_client.get(url(follow, "accept"))
    assert response.context["form"].initial == {"kind": "call", "subject": "Follow up: Acme"}
    start = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    rep_client.post(url(follow, "accept"), {"kind": "call", "start_at": start, "duration_minutes": "15",
                                            "subject": "Follow up: Acme"})
    activity = Activity.objects.get()
    assert (activity.kind, activity.lead_id) == ("call", lead.pk)


def test_an_insight_already_handled_goes_back(rep_client, partner):
    done = make_insight(partner, state=Insight.State.ACCEPTED)
    response = rep_client.get(url(done, "accept"))
    assert response.status_code == 302 and response["Location"] == f"/partners/{partner.pk}/"


def test_a_tier_review_is_a_managers(rep_client, manager, partner, client):
    review = make_insight(partner, Rule.Code.TIER_REVIEW, evidence={"direction": "promote", "to_tier": "Platinum"})
    assert rep_client.get(url(review, "accept")).status_code == 404
    assert rep_client.post(url(review, "dismiss"), {"reason": "Already in hand"}).status_code == 404
    assert f'id="insight-{review.pk}"' not in rep_client.get(f"/partners/{partner.pk}/").content.decode()
    client.force_login(manager)
    # Its card carries the manager's decision (insights.tier_views), not a generic Accept/Dismiss.
    html = client.get(f"/partners/{partner.pk}/").content.decode()
    assert f'id="insight-{review.pk}"' in html and f"/insights/{review.pk}/tier/accept/" in html
    assert url(review, "dismiss") not in html and url(review, "snooze") in html
    response = client.post(url(review, "accept"))  # nothing to fill in: its page, unchanged
    assert response.status_code == 200 and f"/insights/{review.pk}/tier/accept/" in response.content.decode()
    review.refresh_from_db()
    assert review.state == Insight.State.OPEN


def test_another_rule_set_to_review_the_tier_opens_the_edit_page(manager_client, manager, partner):
    Rule.objects.filter(code=Rule.Code.BUSINESS_DROP).update(action=Rule.Action.REVIEW_TIER)
    insight = make_insight(partner, Rule.Code.BUSINESS_DROP, evidence={})
    assert manager_client.get(url(insight, "accept")).status_code == 200
    response = manager_client.post(url(insight, "accept"))
    assert response["Location"] == f"/partners/{partner.pk}/edit/"
    insight.refresh_from_db()
    assert insight.state == Insight.State.ACCEPTED and insight.reacted_by == manager


def test_rates_page_for_managers_only(rep_client, client, manager, partner, django_assert_num_queries):
    for state in ("accepted", "dismissed", "open", "accepted"):
        make_insight(partner, state=state)
    assert rep_client.get("/insights/rules/").status_code == 404
    client.force_login(manager)
    # 1. session, 2. user, 3. whether the user sees all partners (managers only), 4. the rules with their insights
    # counted per state (one aggregate).
    with django_assert_num_queries(4):
        response = client.get("/insights/rules/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="rule-engagement_due"' in html and "50 %" in html and "25 %" in html
    assert html.count('<tr id="rule-') == 8  # seven, and ticket_breach (issue 13)
    rule = Rule.objects.get(code="engagement_due")
    assert f'href="/admin/insights/rule/{rule.pk}/change/"' in html  # configure it in the admin
    assert "Insight rules" in client.get(TODAY).content.decode()


def test_partner_page_insights_cost_one_query(rep_client, partner):
    for score in range(5):
        make_insight(partner, score=score)
    with CaptureQueriesContext(connection) as with_insights:
        response = rep_client.get(f"/partners/{partner.pk}/")
    assert len(response.context["insights"]) == 3
    Insight.objects.all().delete()
    with CaptureQueriesContext(connection) as without:
        rep_client.get(f"/partners/{partner.pk}/")
    assert len(with_insights) == len(without)  # the one insights query runs either way: no query per card
