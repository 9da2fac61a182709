"""The portal home (portal.views.home) and the business page (portal.views.business): the welcome, "since your last
visit" from the event table and the membership's visit marks, the tier, the business card and trendline — the
partner's own data only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from business import periods
from business.models import Frequency, Parameter
from portal.events import EventItem, portal_events_record
from portal.home_services import VISIT_GAP, membership_visit_home
from portal.models import DealProtection, Membership, PortalEvent
from tests import factories

pytestmark = pytest.mark.django_db

HOME = "/portal/"
BUSINESS = "/portal/business/"


def event(partner, key, *, days_ago=0.0, title=None, kind=PortalEvent.Kind.DEAL_DECIDED, actor=None, link=""):
    at = timezone.now() - timedelta(days=days_ago)
    portal_events_record(items=[EventItem(partner_id=partner.pk, kind=kind, title=title or f"event {key}",
                                          source_key=key, link=link, actor_id=actor.pk if actor else None)], at=at)


def this_month():
    return periods.period_start(periods.org_today(), Frequency.MONTHLY)


def figures(partner, *, target, generated, months=12):
    """Monthly revenue targets and achievements of ``partner`` for the last ``months`` months."""
    revenue = factories.parameter(Parameter.REVENUE)
    for offset in range(months):
        start = periods.shift(this_month(), Frequency.MONTHLY, -offset)
        factories.TargetFactory(partner=partner, parameter=revenue, period_start=start, value=Decimal(target))
        factories.AchievementFactory(partner=partner, parameter=revenue, period_start=start,
                                     value=Decimal(generated))


def test_home_welcomes_by_first_name_and_shows_the_tier_without_engagement_frequency(acme_client, acme, acme_admin):
    DealProtection.objects.create(tier=acme.tier, days=120, extension_days=45)
    response = acme_client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Welcome, Ada" in html
    assert 'id="tier-name">Gold<' in html
    assert "protected for 120 days" in html and "45 more days" in html
    assert "engage" not in html.lower()  # the engagement frequency is the staff's business
    assert 'href="/portal/business/"' in html


def test_first_visit_shows_the_last_two_weeks_of_the_partners_own_events(acme_client, acme, globex, acme_admin,
                                                                          acme_member):
    event(acme, "deal:1:approved", days_ago=1, title="Deal DR-000001 approved", link="/portal/deals/1/")
    event(acme, "colleague:2", days_ago=3, title="Max joined", kind=PortalEvent.Kind.COLLEAGUE_JOINED)
    event(acme, "old", days_ago=20, title="Too old to show")
    event(acme, "mine", days_ago=1, title="Something Ada did herself", actor=acme_admin.user)
    event(globex, "deal:9:approved", days_ago=1, title="Globex deal approved")

    response = acme_client.get(HOME)
    since = response.context["since"]
    assert since.first_visit
    assert [e.title for e in since.events] == ["Deal DR-000001 approved", "Max joined"]
    html = response.content.decode()
    assert "In the last two weeks" in html
    assert '<a href="/portal/deals/1/">Deal DR-000001 approved</a>' in html
    assert "Globex" not in html and "Too old" not in html and "did herself" not in html


def test_since_your_last_visit_starts_at_the_visit_before_and_survives_reloads(acme_client, acme, acme_admin):
    member = acme_admin
    two_hours_ago = timezone.now() - timedelta(hours=2)
    Membership.objects.filter(pk=member.pk).update(seen_at=two_hours_ago, previous_seen_at=two_hours_ago
                                                   - timedelta(days=1))
    event(acme, "before", days_ago=0.5, title="Before the last visit")  # 12 h ago: before the last visit (2 h ago)
    event(acme, "after", days_ago=0.02, title="After the last visit")  # ~30 min ago

    response = acme_client.get(HOME)
    assert [e.title for e in response.context["since"].events] == ["After the last visit"]
    assert "Since your last visit" in response.content.decode()
    member.refresh_from_db()
    assert member.previous_seen_at == two_hours_ago and member.seen_at > two_hours_ago

    # A reload (within the visit gap) is the same visit: the list stays, the marks do not move.
    seen = member.seen_at
    response = acme_client.get(HOME)
    assert [e.title for e in response.context["since"].events] == ["After the last visit"]
    member.refresh_from_db()
    assert member.seen_at == seen and member.previous_seen_at == two_hours_ago


def test_a_new_visit_after_the_gap_empties_the_list(acme_client, acme, acme_admin):
    event(acme, "a", days_ago=1, title="Seen on the first visit")
    acme_client.get(HOME)
    # The first visit was more than the gap ago: the next home view is a new visit.
    Membership.objects.filter(pk=acme_admin.pk).update(seen_at=timezone.now() - VISIT_GAP - timedelta(minutes=1))
    response = acme_client.get(HOME)
    assert response.context["since"].events == []
    assert 'id="nothing-new"' in response.content.decode()


def test_visit_marks_move_once_with_one_conditional_update(acme_admin):
    now = timezone.now()
    member = Membership.objects.get(pk=acme_admin.pk)
    membership_visit_home(member=member, now=now)
    assert (member.seen_at, member.previous_seen_at) == (now, None)
    stale = Membership.objects.get(pk=acme_admin.pk)  # read before the next move: its marks are old
    later = now + VISIT_GAP + timedelta(seconds=1)
    membership_visit_home(member=member, now=later)
    assert (member.seen_at, member.previous_seen_at) == (later, now)
    stale.seen_at = now - timedelta(days=1)  # another tab's stale copy does not move the marks again
    membership_visit_home(member=stale, now=later + timedelta(seconds=1))
    fresh = Membership.objects.get(pk=acme_admin.pk)
    assert (fresh.seen_at, fresh.previous_seen_at) == (later, now)


def test_home_query_count(acme_client, acme, acme_admin, django_assert_num_queries):
    """Enough rows that a query per row would show: 30 events, 12 months of two parameters' figures."""
    DealProtection.objects.create(tier=acme.tier, days=90)
    for n in range(30):
        event(acme, f"e{n}", days_ago=n / 10)
    figures(acme, target=1000, generated=600)
    # 1. session, 2. user, 3. membership with partner, tier and rep (portal_member),
    # 4. the visit's conditional UPDATE of seen_at (first visit), 5. the events since the last visit,
    # 6. the tier's deal protection, 7. active parameters, 8. targets, 9. achievements (business card),
    # 10. the bell's unread count (portal/base.html, portal.templating).
    with django_assert_num_queries(10):
        response = acme_client.get(HOME)
    assert len(response.context["since"].events) == 20 and response.context["since"].more
    assert [row["parameter"].code for row in response.context["business_card"]] == ["revenue"]
    # A reload within the visit gap: no UPDATE.
    with django_assert_num_queries(9):
        acme_client.get(HOME)


def test_home_and_business_show_only_the_partners_own_figures(acme_client, acme, globex):
    figures(acme, target=1000, generated=611)
    figures(globex, target=77777, generated=55555)
    home = acme_client.get(HOME).content.decode()
    assert "611" in home and "55,555" not in home and "77,777" not in home and "55555" not in home

    response = acme_client.get(BUSINESS)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="trend-chart"' in html and 'id="business-card"' in html
    figure = response.context["trend_figure"]
    generated, targets = figure["data"][0]["y"], figure["data"][1]["y"]
    assert set(generated) == {611.0} and set(targets) == {1000.0} and len(generated) == 12
    assert "55555" not in html and "77777" not in html
    assert "Globex" not in html


def test_business_page_picks_the_trend_parameter_and_survives_bad_input(acme_client, acme):
    figures(acme, target=10, generated=5)
    assert acme_client.get(BUSINESS, {"parameter": "leads_generated"}).context["trend_parameter"].code == (
        "leads_generated")
    for bad in ("<script>", "x" * 5000, "revenue'--"):
        response = acme_client.get(BUSINESS, {"parameter": bad})
        assert response.status_code == 200
        assert response.context["trend_parameter"].code in {"revenue", "leads_generated", "leads_converted"}


def test_business_page_query_count(acme_client, acme, django_assert_num_queries):
    figures(acme, target=1000, generated=600)
    # 1. session, 2. user, 3. membership with partner and tier, 4. active parameters, 5. targets, 6. achievements
    # (card and trendline), 7. the tier's bands (insights.tier_review), 8. leads generated/converted (leads chart),
    # 9. the bell's unread count (portal/base.html, portal.templating).
    with django_assert_num_queries(9):
        assert acme_client.get(BUSINESS).status_code == 200


@pytest.mark.parametrize("url", [HOME, BUSINESS, "/portal/company/", "/portal/company/propose/"])
def test_staff_and_anonymous_users_do_not_reach_the_partner_pages(client, rep, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(rep)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code in (404, 405)


@pytest.mark.parametrize("url", [HOME, BUSINESS, "/portal/company/"])
def test_read_only_pages_refuse_other_verbs(acme_client, url):
    for method in ("post", "put", "delete", "patch"):
        assert getattr(acme_client, method)(url).status_code == 405


def test_a_deactivated_member_gets_404(acme_client, acme_admin):
    Membership.objects.filter(pk=acme_admin.pk).update(is_active=False)
    assert acme_client.get(HOME).status_code == 404
    assert acme_client.get(BUSINESS).status_code == 404


def test_event_titles_are_escaped_and_only_portal_links_are_links(acme_client, acme):
    event(acme, "x", days_ago=0.1, title="<b>bold</b> & <script>alert(1)</script>", link="javascript:alert(1)")
    html = acme_client.get(HOME).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in html
    assert "javascript:alert" not in html


def test_the_portal_account_menu_links_to_the_users_sessions(acme_client):
    """Sessions are listed and revocable by every user (accounts app): partner users reach theirs from the portal."""
    home = acme_client.get("/portal/")
    assert b'href="/accounts/sessions/"' in home.content
    page = acme_client.get("/accounts/sessions/")
    assert page.status_code == 200
