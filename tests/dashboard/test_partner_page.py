"""The partner page as a rep reads it before a call: section order, the history's pages ("Show older") with who did
each past activity, numbers and periods formatted for people, a constant number of queries on every history page."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.models import Activity
from business import periods
from tests import factories

pytestmark = pytest.mark.django_db


def detail_url(partner):
    return f"/partners/{partner.pk}/"


def past_history(partner, count, *, owner, closed_by=None):
    """``count`` past activities, one day apart (newest: outcome "o0"), each with a distinct outcome."""
    now = timezone.now()
    Activity.objects.bulk_create(
        Activity(partner=partner, kind=Activity.Kind.CALL, mode=Activity.Mode.SCHEDULED, status=Activity.Status.DONE,
                 start_at=now - timedelta(days=n + 1), owner=owner, closed_by=closed_by or owner, outcome=f"o{n}.")
        for n in range(count)
    )


def outcomes(response):
    return [a.outcome for a in response.context["past"]]


def test_sections_come_in_the_order_a_rep_needs_them(rep_client, rep):
    partner = factories.partner_with_contacts(assigned_to=rep)
    html = rep_client.get(detail_url(partner)).content.decode()
    order = ["partner-head", 'id="quick-contact"', 'id="business-card"', 'id="next-engagements"', 'id="reminders"',
             'id="past-engagements"', 'id="leads"', 'id="status-history"']
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_history_pages_show_older_activities(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    past_history(partner, 45, owner=rep)
    first = rep_client.get(detail_url(partner))
    assert outcomes(first) == [f"o{n}." for n in range(20)]
    html = first.content.decode()
    assert "1–20, newest first" in html
    assert 'href="?history=2#past-engagements" rel="next">Show older</a>' in html
    assert "‹ Newer" not in html

    second = rep_client.get(detail_url(partner), {"history": 2, "parameter": "revenue"})
    assert outcomes(second) == [f"o{n}." for n in range(20, 40)]
    html = second.content.decode()
    assert "21–40, newest first" in html
    assert 'href="?parameter=revenue#past-engagements" rel="prev">‹ Newer</a>' in html  # the trend's choice is kept
    assert 'href="?parameter=revenue&amp;history=3#past-engagements" rel="next"' in html

    third = rep_client.get(detail_url(partner), {"history": 3})
    assert outcomes(third) == [f"o{n}." for n in range(40, 45)] and not third.context["past_more"]
    assert "Show older" not in third.content.decode()

    beyond = rep_client.get(detail_url(partner), {"history": 9})
    assert beyond.status_code == 200 and outcomes(beyond) == []
    assert "No older engagements." in beyond.content.decode()


@pytest.mark.parametrize("value", ["abc", "-3", "0", "", "99999999999999999999"])
def test_a_bad_history_page_is_the_first_or_the_last_page_never_an_error(rep_client, rep, value):
    partner = factories.PartnerFactory(assigned_to=rep)
    past_history(partner, 3, owner=rep)
    response = rep_client.get(detail_url(partner), {"history": value})
    assert response.status_code == 200
    assert response.context["history_page"] >= 1


def test_each_past_activity_says_who_did_it(rep_client, rep, manager):
    partner = factories.PartnerFactory(assigned_to=rep)
    rep.first_name, rep.last_name = "Asha", "Rao"
    rep.save(update_fields=["first_name", "last_name"])
    now = timezone.now()
    factories.ActivityFactory(partner=partner, owner=rep, closed_by=rep, outcome="Logged by Asha",
                              start_at=now - timedelta(days=1))
    factories.ActivityFactory(partner=partner, owner=rep, closed_by=manager, mode=Activity.Mode.SCHEDULED,
                              outcome="Done by the manager", start_at=now - timedelta(days=2))
    factories.ActivityFactory(partner=partner, owner=rep, closed_by=None, mode=Activity.Mode.SCHEDULED,
                              status=Activity.Status.CANCELLED, subject="Cancelled one", start_at=now - timedelta(days=3))
    html = rep_client.get(detail_url(partner)).content.decode()
    who = re.findall(r'<div class="activity-who">(.*?)</div>', html)
    manager_name = manager.get_full_name() or manager.username
    assert who == ["By Asha Rao", f"By {manager_name} · planned by Asha Rao", "Cancelled by Asha Rao"]


def test_every_history_page_costs_the_same_queries(rep_client, rep, other_rep, manager):
    """Who did each activity is joined into the history's query: no query per row, on any page."""
    partner = factories.PartnerFactory(assigned_to=rep)
    past_history(partner, 5, owner=rep)
    with CaptureQueriesContext(connection) as few:
        rep_client.get(detail_url(partner))
    past_history(partner, 30, owner=other_rep, closed_by=manager)
    for page in (1, 2):
        with CaptureQueriesContext(connection) as many:
            response = rep_client.get(detail_url(partner), {"history": page})
        assert len(response.context["past"]) == (20 if page == 1 else 15)
        assert len(many) == len(few), page


def test_business_card_numbers_for_people(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    month = periods.period_start(timezone.localdate(), "monthly")
    factories.TargetFactory(partner=partner, parameter=factories.parameter("revenue"), period_start=month,
                            value=Decimal("90000.00"))
    factories.AchievementFactory(partner=partner, parameter=factories.parameter("revenue"), period_start=month,
                                 value=Decimal("48200.50"))
    html = rep_client.get(detail_url(partner)).content.decode()
    card = html[html.index('id="business-card"'):html.index('id="next-engagements"')]
    assert "USD 90,000" in card and "USD 48,200.50" in card
    assert "90000.00" not in card and "90,000.00" not in card
    assert f">{month:%b} {month.year}<" in card  # the period as people say it: "Nov 2026"
    assert 'data-label="Target"' in card  # stacked into labelled cards on a phone
