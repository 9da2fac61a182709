"""The partner list's "Next engagement" column, its sort by due date and a rep's default order (most urgent first)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from partners.models import Partner
from partners.selectors import partner_list
from tests import factories

pytestmark = pytest.mark.django_db
LIST_URL = reverse("partners:list")


@pytest.fixture
def partners(rep):
    now = timezone.now()

    def make(name, tier, due_days):
        partner = factories.PartnerFactory(name=name, assigned_to=rep, tier=factories.tier(tier) if tier else None)
        due = None if due_days is None else now + timedelta(days=due_days, hours=1 if due_days >= 0 else 0)
        Partner.objects.filter(pk=partner.pk).update(engagement_due_at=due)
        return partner

    return [
        make("A later", "Silver", 12),
        make("B overdue", "Gold", -5),
        make("C no tier", None, None),
        make("D soon", "Platinum", 3),
        make("E most overdue", "Silver", -9),
    ]


def names(response):
    return [partner.name for partner in response.context["partners"]]


def test_a_reps_default_order_is_most_urgent_first(rep_client, partners):
    response = rep_client.get(LIST_URL)
    assert names(response) == ["E most overdue", "B overdue", "D soon", "A later", "C no tier"]
    html = response.content.decode()
    assert 'aria-sort="ascending">Next engagement ▲</a>' in html  # the headers show the default sort
    assert "overdue 9 d" in html and "overdue 5 d" in html
    for partner in (partners[0], partners[3]):  # days counted in local dates
        due = Partner.objects.get(pk=partner.pk).engagement_due_at
        assert f"due in {(timezone.localdate(due) - timezone.localdate()).days} d" in html


def test_sort_by_due_date_both_ways(manager_client, partners):
    assert names(manager_client.get(LIST_URL, {"sort": "due"})) == [
        "E most overdue", "B overdue", "D soon", "A later", "C no tier"
    ]
    # The exact reverse: least urgent first, so a partner that is never due (no tier) comes first.
    assert names(manager_client.get(LIST_URL, {"sort": "-due"})) == [
        "C no tier", "A later", "D soon", "B overdue", "E most overdue"
    ]


def test_a_managers_default_order_stays_by_name(manager_client, partners):
    assert names(manager_client.get(LIST_URL)) == ["A later", "B overdue", "C no tier", "D soon", "E most overdue"]


def test_same_due_date_goes_highest_tier_first(rep, manager):
    due = timezone.now() - timedelta(days=1)
    for name, tier in (("Silver one", "Silver"), ("Platinum one", "Platinum"), ("Gold one", "Gold")):
        partner = factories.PartnerFactory(name=name, assigned_to=rep, tier=factories.tier(tier))
        Partner.objects.filter(pk=partner.pk).update(engagement_due_at=due)
    assert [p.name for p in partner_list(user=rep)] == ["Platinum one", "Gold one", "Silver one"]


def test_due_by_filter_feeds_todays_this_week_link(rep_client, partners):
    day = (timezone.localdate() + timedelta(days=7)).isoformat()
    assert names(rep_client.get(LIST_URL, {"due_by": day})) == ["E most overdue", "B overdue", "D soon"]
    response = rep_client.get(LIST_URL, {"due_by": "not a date"})
    assert response.status_code == 200 and "due_by" in response.context["filterset"].form.errors


def test_next_engagement_column_shows_the_planned_meeting(rep_client, rep):
    partner = factories.PartnerFactory(name="Planned", assigned_to=rep)
    Partner.objects.filter(pk=partner.pk).update(next_engagement_at=timezone.now() + timedelta(days=2))
    html = rep_client.get(LIST_URL).content.decode()
    assert 'data-label="Next engagement"' in html and "planned " in html
