"""leads.customer_selectors: who sees which customer (the one rule every customer view and the activities of a
customer go through)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from leads.customer_selectors import customer_get_for_user, customer_today_scope, customers_visible_to
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(rep, other_rep):
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    return {
        "assigned": factories.CustomerFactory(assigned_to=rep, partner=theirs),
        "via_partner": factories.CustomerFactory(assigned_to=other_rep, partner=mine),
        "no_partner": factories.CustomerFactory(assigned_to=rep, partner=None),
        "theirs": factories.CustomerFactory(assigned_to=other_rep, partner=theirs),
        "nobodys": factories.CustomerFactory(assigned_to=None, partner=None),
    }


def test_a_rep_sees_assigned_customers_and_those_of_their_partners(rep, customers):
    seen = set(customers_visible_to(rep))
    assert seen == {customers["assigned"], customers["via_partner"], customers["no_partner"]}


def test_a_manager_sees_every_customer(manager, customers):
    assert set(customers_visible_to(manager)) == set(customers.values())


def test_inactive_and_anonymous_users_see_none(rep, customers):
    rep.is_active = False
    assert not customers_visible_to(rep).exists()
    assert not customers_visible_to(AnonymousUser()).exists()


def test_get_for_user_is_a_404_for_anyone_elses(rep, customers):
    assert customer_get_for_user(rep, customers["via_partner"].pk) == customers["via_partner"]
    for name in ("theirs", "nobodys"):
        with pytest.raises(Http404):
            customer_get_for_user(rep, customers[name].pk)


def test_todays_scope_is_the_reps_own_customers(rep, other_rep, manager, customers):
    assert set(customer_today_scope(user=rep)) == {customers["assigned"], customers["no_partner"]}
    assert set(customer_today_scope(user=manager, rep="rep2")) == {customers["via_partner"], customers["theirs"]}
    assert set(customer_today_scope(user=manager)) == set(customers.values())
