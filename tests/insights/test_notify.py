"""insights.notify: one "new suggestions" notification per rep and day, from the nightly evaluation's new insights."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from insights.models import Insight, Rule
from insights.notify import insights_notify_new
from notifications.models import Notification
from tests import factories
from tests.insights.reacting import make_insight

DAY = date(2026, 11, 24)


@pytest.fixture
def since():
    return timezone.now() - timedelta(seconds=1)


@pytest.mark.django_db
def test_each_rep_gets_one_notification_counting_their_new_suggestions(since):
    rep, other = factories.rep_user(username="ann"), factories.rep_user(username="bob")
    first, second = factories.PartnerFactory(assigned_to=rep), factories.PartnerFactory(assigned_to=rep)
    make_insight(first)
    make_insight(second, Rule.Code.NO_NEXT_ENGAGEMENT)
    make_insight(factories.PartnerFactory(assigned_to=other))

    assert insights_notify_new(since=since, day=DAY) == 2

    mine = Notification.objects.get(recipient=rep)
    assert (mine.event, mine.title, mine.link) == ("insights", "2 new suggestions for your partners", "/today/")
    assert Notification.objects.get(recipient=other).title == "1 new suggestion for your partners"


@pytest.mark.django_db
def test_a_second_run_the_same_day_notifies_nobody_again(since):
    make_insight(factories.PartnerFactory(assigned_to=factories.rep_user(username="ann")))
    assert insights_notify_new(since=since, day=DAY) == 1
    assert insights_notify_new(since=since, day=DAY) == 0
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_old_handled_and_managers_insights_do_not_count(since):
    rep = factories.rep_user(username="ann")
    partner = factories.PartnerFactory(assigned_to=rep)
    old = make_insight(partner)
    Insight.objects.filter(pk=old.pk).update(created_at=since - timedelta(days=1))  # from an earlier night
    make_insight(partner, Rule.Code.NO_NEXT_ENGAGEMENT, state=Insight.State.DISMISSED)
    make_insight(partner, Rule.Code.TIER_REVIEW)  # a manager decides tier reviews
    make_insight(factories.PartnerFactory(assigned_to=None))

    assert insights_notify_new(since=since, day=DAY) == 0
