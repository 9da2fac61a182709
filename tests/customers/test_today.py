"""Today's "Customers to engage" (dashboard/today.py) and customer activities on Today: whose customers, the order,
the cap, the links; the page's query budget is asserted in tests/dashboard/test_today.py."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from leads.models import Customer
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = reverse("today")


def due(customer, delta):
    Customer.objects.filter(pk=customer.pk).update(engagement_due_at=timezone.now() + delta)
    return customer


@pytest.fixture
def book(rep, other_rep):
    mine = factories.PartnerFactory(assigned_to=rep)
    return {
        "late": due(factories.CustomerFactory(name="Late 9 days", assigned_to=rep), timedelta(days=-9)),
        "later": due(factories.CustomerFactory(name="Late 2 days", assigned_to=rep), timedelta(days=-2)),
        "today": due(factories.CustomerFactory(name="Due in an hour", assigned_to=rep), timedelta(minutes=1)),
        "unassigned": due(factories.CustomerFactory(name="From my partner", assigned_to=None, partner=mine),
                          timedelta(days=-1)),
        # brought by my partner but another rep's to engage; and another rep's own
        "handed": due(factories.CustomerFactory(name="Handed over", assigned_to=other_rep, partner=mine),
                      timedelta(days=-5)),
        "theirs": due(factories.CustomerFactory(name="Theirs", assigned_to=other_rep), timedelta(days=-5)),
        "tomorrow": due(factories.CustomerFactory(name="Due in 3 days", assigned_to=rep), timedelta(days=3)),
    }


def engage_names(response):
    return [customer.name for customer in response.context["today"].customers_due.rows]


def test_customers_to_engage_are_mine_overdue_or_due_today_most_overdue_first(rep_client, book):
    response = rep_client.get(TODAY)
    names = engage_names(response)
    expected = ["Late 9 days", "Late 2 days", "From my partner"]
    if timezone.localtime(timezone.now() + timedelta(minutes=1)).date() == timezone.localdate():
        expected.append("Due in an hour")  # (unless the test runs a minute before midnight)
    assert names == expected
    html = response.content.decode()
    assert 'id="today-customers"' in html and reverse("customers:detail", args=[book["late"].pk]) in html
    assert reverse("customer_activities:log", args=[book["late"].pk]) in html


def test_a_manager_sees_everyones_or_one_reps(manager_client, book):
    assert "Theirs" in engage_names(manager_client.get(TODAY))
    names = engage_names(manager_client.get(TODAY, {"rep": "rep2"}))
    assert names == ["Handed over", "Theirs"] or names == ["Theirs", "Handed over"]


def test_the_section_is_capped_with_a_link_to_the_list(rep_client, rep):
    for number in range(23):
        due(factories.CustomerFactory(name=f"C{number:02d}", assigned_to=rep), timedelta(days=-(number + 1)))
    response = rep_client.get(TODAY)
    section = response.context["today"].customers_due
    assert len(section.rows) == 20 and section.section.count == 23 and section.rows[0].name == "C22"
    assert f'{reverse("customers:list")}?overdue=on&amp;sort=due' in response.content.decode()


def test_customer_calls_and_reminders_show_with_the_customers_name_and_links(rep_client, rep):
    customer = factories.customer_with_contacts(name="Ravi Stores", assigned_to=rep)
    call = services.activity_schedule(customer=customer, by=rep, kind="call", subject="Renewal",
                                      start_at=timezone.now() + timedelta(hours=2))
    reminder = services.activity_remind(customer=customer, by=rep, subject="Send quote",
                                        start_at=timezone.now() + timedelta(seconds=1))
    response = rep_client.get(TODAY)
    agenda = response.context["today"]
    assert [a.pk for a in agenda.scheduled.rows] == [call.pk]
    html = response.content.decode()
    assert "Ravi Stores" in html and "Renewal" in html
    assert reverse("customer_activities:complete", args=[customer.pk, call.pk]) in html
    assert reverse("customers:detail", args=[customer.pk]) in html
    # Done from Today: back to Today, the customer's next engagement follows
    response = rep_client.post(reverse("customer_activities:complete", args=[customer.pk, call.pk]), {"next": TODAY})
    assert response.status_code == 302 and response.url == TODAY
    customer.refresh_from_db()
    assert customer.last_engaged_at is not None and customer.next_engagement_at is None
    assert reminder.pk  # (the reminder stays)


def test_another_reps_customer_activities_stay_off_my_today(rep_client, other_rep):
    theirs = factories.CustomerFactory(assigned_to=other_rep, partner=factories.PartnerFactory(assigned_to=other_rep))
    services.activity_schedule(customer=theirs, by=other_rep, kind="call", start_at=timezone.now() + timedelta(hours=1))
    assert rep_client.get(TODAY).context["today"].scheduled.rows == []
