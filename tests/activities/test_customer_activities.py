"""Activities on a customer, as on a partner (issue 13): the same pages under /customers/<id>/activities/, the same
services keeping the customer's last/next engagement and due date, scoping (404 for another rep's customer and for
another's activity on every URL and verb), and every reader of activities — Today, the calendar feed and download,
the due notifications, the digest, the admin — showing and linking the customer."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from activities import services
from activities.models import Activity
from leads.models import Customer
from notifications.models import Notification
from notifications.preferences import calendar_token_create
from tests import factories

pytestmark = pytest.mark.django_db


def url(name, customer, activity=None):
    args = [customer.pk] if activity is None else [customer.pk, activity.pk]
    return reverse(f"customer_activities:{name}", args=args)


def when(delta):
    moment = timezone.localtime(timezone.now() + delta)
    return {"start_at": moment.strftime("%Y-%m-%dT%H:%M")}


@pytest.fixture
def customer(rep):
    return factories.customer_with_contacts(name="Ravi Stores", assigned_to=rep)


@pytest.fixture
def theirs(other_rep):
    return factories.customer_with_contacts(name="Their Shop", assigned_to=other_rep,
                                            partner=factories.PartnerFactory(assigned_to=other_rep))


@pytest.fixture
def planned(customer, rep):
    return services.activity_schedule(customer=customer, by=rep, kind="call",
                                      start_at=timezone.now() + timedelta(days=1), duration_minutes=15)


# --- Services keep the customer's engagement dates ------------------------------------------------------------------


def test_logging_on_a_customer_moves_its_last_engagement_and_due_date(customer, rep):
    Customer.objects.filter(pk=customer.pk).update(engagement_due_at=timezone.now() - timedelta(days=5))
    at = timezone.now() - timedelta(hours=2)
    services.activity_log(customer=customer, by=rep, kind="visit", start_at=at, outcome="Took an order")
    customer.refresh_from_db()
    assert customer.last_engaged_at == at and customer.engagement_due_at == at + timedelta(days=30)


def test_scheduling_sets_next_engagement_and_cancelling_clears_it(customer, rep, planned):
    customer.refresh_from_db()
    assert customer.next_engagement_at == planned.start_at
    services.activity_cancel(activity=planned, by=rep)
    customer.refresh_from_db()
    assert customer.next_engagement_at is None


def test_completing_makes_it_the_last_engagement(customer, rep, planned):
    services.activity_complete(activity=planned, by=rep, outcome="ok")
    customer.refresh_from_db()
    planned.refresh_from_db()
    assert customer.last_engaged_at == planned.start_at and customer.next_engagement_at is None


def test_a_reminder_is_not_an_engagement(customer, rep):
    services.activity_remind(customer=customer, by=rep, start_at=timezone.now() + timedelta(days=1), subject="x")
    customer.refresh_from_db()
    assert customer.next_engagement_at is None


def test_a_customer_location_becomes_the_place(customer, rep):
    location = customer.locations.get()
    activity = services.activity_schedule(customer=customer, by=rep, kind="meeting", location=location,
                                          start_at=timezone.now() + timedelta(days=1))
    assert activity.location is None and activity.place == location.address


def test_another_customers_or_a_partners_location_is_refused(customer, theirs, rep):
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError, match="another customer"):
        services.activity_schedule(customer=customer, by=rep, kind="meeting", start_at=start,
                                   location=theirs.locations.get())
    partner_location = factories.LocationFactory(partner=factories.PartnerFactory(assigned_to=rep))
    with pytest.raises(ValidationError, match="another customer"):
        services.activity_schedule(customer=customer, by=rep, kind="meeting", start_at=start,
                                   location=partner_location)
    with pytest.raises(ValidationError, match="another partner"):
        services.activity_schedule(partner=partner_location.partner, by=rep, kind="meeting", start_at=start,
                                   location=customer.locations.get())
    assert not Activity.objects.exists()


def test_exactly_one_of_partner_and_customer(customer, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(TypeError):
        services.activity_schedule(partner=partner, customer=customer, by=rep, kind="call", start_at=start)
    with pytest.raises(TypeError):
        services.activity_remind(by=rep, start_at=start, subject="x")
    with pytest.raises(IntegrityError), transaction.atomic():  # the database says so too
        Activity.objects.create(partner=partner, customer=customer, kind="call", mode="scheduled", start_at=start)
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.create(kind="call", mode="scheduled", start_at=start)


# --- The pages -----------------------------------------------------------------------------------------------------------


def test_schedule_from_the_customer_page(rep_client, customer):
    location = customer.locations.get()
    assert list(rep_client.get(url("schedule", customer)).context["form"].fields["location"].queryset) == [location]
    data = {"kind": "meeting", **when(timedelta(days=2)), "duration_minutes": "30", "location": location.pk,
            "subject": "Stock review"}
    response = rep_client.post(url("schedule", customer), data)
    assert response.status_code == 302 and response.url == reverse("customers:detail", args=[customer.pk])
    activity = Activity.objects.get(customer=customer)
    assert (activity.partner, activity.kind, activity.place, activity.subject) == (
        None, "meeting", location.address, "Stock review")
    page = rep_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Stock review" in page and url("complete", customer, activity) in page and url("ics", customer, activity) in page


def test_log_remind_edit_complete_and_cancel_on_a_customer(rep_client, rep, customer, planned):
    response = rep_client.post(url("log", customer), {"kind": "call", "channel": "call", **when(timedelta(0)),
                                                      "outcome": "Happy"})
    assert response.status_code == 302
    assert rep_client.post(url("remind", customer), {"subject": "Send quote", **when(timedelta(days=1))}).status_code == 302
    assert Activity.objects.filter(customer=customer, mode="reminder").exists()
    response = rep_client.post(url("edit", customer, planned), {**when(timedelta(days=3)), "duration_minutes": "20",
                                                                "location": "", "place": "Café", "subject": "New"})
    assert response.status_code == 302
    planned.refresh_from_db()
    assert (planned.place, planned.subject, planned.duration_minutes) == ("Café", "New", 20)
    assert rep_client.get(url("complete", customer, planned)).status_code == 200
    assert rep_client.post(url("complete", customer, planned), {"outcome": "Done it"}).status_code == 302
    planned.refresh_from_db()
    assert planned.status == "done" and planned.closed_by == rep
    # a second submit changes nothing (the activity is no longer planned)
    response = rep_client.post(url("complete", customer, planned), {"outcome": "again"}, follow=True)
    assert "already done" in response.content.decode()
    other = services.activity_schedule(customer=customer, by=rep, kind="call", start_at=timezone.now() + timedelta(1))
    assert rep_client.post(url("cancel", customer, other), {"outcome": "Closed"}).status_code == 302
    assert Activity.objects.get(pk=other.pk).status == "cancelled"


def test_log_this_prefills_from_a_customer_contact(rep_client, customer):
    mobile = customer.contacts.get(kind="mobile")
    response = rep_client.get(url("log", customer), {"kind": "call", "channel": "call", "contact": mobile.pk})
    assert response.context["form"].initial["subject"] == mobile.value
    other = factories.customer_with_contacts().contacts.first()
    response = rep_client.get(url("log", customer), {"contact": other.pk})
    assert "subject" not in response.context["form"].initial  # another customer's contact: ignored


def test_ics_download_of_a_customer_activity(rep_client, customer, planned):
    response = rep_client.get(url("ics", customer, planned))
    assert response.status_code == 200
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Call with Ravi Stores"
    assert reverse("customers:detail", args=[customer.pk]) in str(event["URL"])


def test_every_url_of_another_reps_customer_is_a_404(rep_client, other_rep, theirs):
    activity = services.activity_schedule(customer=theirs, by=other_rep, kind="call",
                                          start_at=timezone.now() + timedelta(days=1))
    for name in ("schedule", "remind", "log"):
        assert rep_client.get(url(name, theirs)).status_code == 404
        assert rep_client.post(url(name, theirs), {"kind": "call", **when(timedelta(0))}).status_code == 404
    for name in ("edit", "complete", "cancel", "ics"):
        assert rep_client.get(url(name, theirs, activity)).status_code == 404
        if name != "ics":
            assert rep_client.post(url(name, theirs, activity), {"outcome": "x", **when(timedelta(2))}).status_code == 404
    activity.refresh_from_db()
    assert activity.status == "planned" and Activity.objects.count() == 1


def test_an_activity_of_someone_else_under_my_customers_url_is_a_404(rep_client, rep, other_rep, customer, theirs):
    theirs_activity = services.activity_schedule(customer=theirs, by=other_rep, kind="call",
                                                 start_at=timezone.now() + timedelta(days=1))
    partner_activity = services.activity_schedule(partner=factories.PartnerFactory(assigned_to=rep), by=rep,
                                                  kind="call", start_at=timezone.now() + timedelta(days=1))
    for activity in (theirs_activity, partner_activity):
        for name in ("edit", "complete", "cancel", "ics"):
            assert rep_client.get(url(name, customer, activity)).status_code == 404
        assert rep_client.post(url("complete", customer, activity), {"outcome": "x"}).status_code == 404
    # and a customer's activity under a partner's URL
    partner = factories.PartnerFactory(assigned_to=rep)
    mine = services.activity_schedule(customer=customer, by=rep, kind="call", start_at=timezone.now() + timedelta(1))
    assert rep_client.get(reverse("activities:edit", args=[partner.pk, mine.pk])).status_code == 404
    assert set(Activity.objects.values_list("status", flat=True)) == {"planned"}


def test_a_rep_sees_the_customers_of_their_partners(rep_client, rep, other_rep):
    """Assigned to another rep but brought by my partner: visible to me too (the partner's rep follows them)."""
    customer = factories.CustomerFactory(assigned_to=other_rep, partner=factories.PartnerFactory(assigned_to=rep))
    assert rep_client.get(url("log", customer)).status_code == 200


# --- Readers of activities ---------------------------------------------------------------------------------------------


def test_calendar_feed_has_the_customers_call_and_follows_visibility(client, rep, other_rep, customer, planned,
                                                                     settings):
    settings.SITE_URL = "https://prm.example.com"
    token = calendar_token_create(user=rep)
    response = client.get(reverse("calendar_feed", args=[token]))
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Call with Ravi Stores"
    assert str(event["URL"]) == f"https://prm.example.com/customers/{customer.pk}/"
    Customer.objects.filter(pk=customer.pk).update(assigned_to=other_rep)  # reassigned away: it leaves the feed
    response = client.get(reverse("calendar_feed", args=[token]))
    assert Calendar.from_ical(response.content).walk("VEVENT") == []


def test_a_due_customer_reminder_notifies_with_a_link_to_the_customer(rep, other_rep, customer):
    activity = services.activity_remind(customer=customer, by=rep, subject="Send the quote",
                                        start_at=timezone.now() - timedelta(minutes=1))
    assert services.activities_notify_due(now=timezone.now()) == 1
    notification = Notification.objects.get()
    assert notification.recipient == rep and notification.title == "Reminder: Send the quote · Ravi Stores"
    assert notification.link == f"/customers/{customer.pk}/#activity-{activity.pk}"
    # reassigned: the new rep is told (the owner no longer sees the customer)
    services.activity_remind(customer=customer, by=rep, subject="Again", start_at=timezone.now() - timedelta(minutes=1))
    Customer.objects.filter(pk=customer.pk).update(assigned_to=other_rep, partner=None)
    assert services.activities_notify_due(now=timezone.now()) == 1
    assert Notification.objects.latest("id").recipient == other_rep


def test_the_digest_lists_customer_activities_and_overdue_customers(rep, customer):
    from notifications.models import Preference

    now = timezone.now()
    services.activity_remind(customer=customer, by=rep, subject="Call back", start_at=now - timedelta(minutes=5))
    Customer.objects.filter(pk=customer.pk).update(engagement_due_at=now - timedelta(days=2))
    Preference.objects.update_or_create(user=rep, defaults={"digest_enabled": True, "time_zone": "UTC"})
    Preference.objects.filter(user=rep).update(digest_next_at=now - timedelta(minutes=1))
    assert services.activities_send_digests(now=now) == 1
    digest = Notification.objects.get(event="digest")
    assert "Ravi Stores" in digest.body and "Call back" in digest.body and "1 overdue customer(s)" in digest.title


def test_the_admin_lists_customer_activities(client, customer, planned):
    admin = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.get(reverse("admin:activities_activity_changelist"))
    assert response.status_code == 200 and "Ravi Stores" in response.content.decode()
