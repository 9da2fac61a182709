"""The Today page (dashboard/today.py, /today/): sections, order, scope, Done/Log, the manager's rep filter, caps and
the query budget."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity
from leads.models import Customer
from partners.models import ContactPoint, Partner
from partners.services import partner_update
from tests import factories
from tests.insights.reacting import make_insight

pytestmark = pytest.mark.django_db
TODAY = reverse("today")


def overdue_partner(rep, name, tier, days):
    return factories.PartnerFactory(
        name=name, assigned_to=rep, tier=factories.tier(tier), engagement_due_at=timezone.now() - timedelta(days=days)
    )


def section_names(response, section):
    agenda = response.context["today"]
    return [partner.name for partner in getattr(agenda, section).rows]


@pytest.fixture
def day(rep, other_rep):
    """A rep's partners in every state Today knows, and another rep's overdue partner."""
    now = timezone.now()
    silver = overdue_partner(rep, "Silver late", "Silver", 10)
    platinum = overdue_partner(rep, "Platinum late", "Platinum", 2)
    soon = factories.PartnerFactory(name="Gold soon", assigned_to=rep, engagement_due_at=now + timedelta(days=3))
    factories.PartnerFactory(name="Gold later", assigned_to=rep, engagement_due_at=now + timedelta(days=20))
    overdue_partner(other_rep, "Someone else's", "Platinum", 5)
    location = factories.LocationFactory(partner=soon, is_primary=True, label="Warehouse")
    ContactPoint.objects.create(partner=soon, kind="whatsapp", value="+91 98450 11111", is_primary=True)
    call = services.activity_schedule(partner=soon, by=rep, kind="meeting", start_at=now + timedelta(days=1),
                                      location=location, subject="Stock review")
    later = services.activity_schedule(partner=soon, by=rep, kind="call", start_at=now + timedelta(days=10))
    reminder = services.activity_remind(partner=silver, by=rep, start_at=now + timedelta(minutes=1),
                                        subject="Send price list")
    Activity.objects.filter(pk=reminder.pk).update(start_at=now - timedelta(days=1))  # overdue by now
    future_reminder = services.activity_remind(partner=silver, by=rep, start_at=now + timedelta(days=3),
                                               subject="Ask for the cheque")
    # The services recomputed the due dates from the (absent) engagements: set the ones this day needs.
    Partner.objects.filter(pk=silver.pk).update(engagement_due_at=now - timedelta(days=10))
    Partner.objects.filter(pk=soon.pk).update(engagement_due_at=now + timedelta(days=3))
    return {"silver": silver, "platinum": platinum, "soon": soon, "call": call, "later": later,
            "reminder": reminder, "future_reminder": future_reminder}


def test_today_is_where_a_rep_lands(client, rep):
    response = client.post(reverse("login"), {"username": "rep1", "password": factories.PASSWORD})
    assert response.status_code == 302 and response.url == TODAY


def test_today_sections_and_order_for_a_rep(rep_client, day):
    response = rep_client.get(TODAY)
    assert response.status_code == 200
    # Highest tier first, then most overdue: Platinum (2 days late) before Silver (10 days late).
    assert section_names(response, "overdue") == ["Platinum late", "Silver late"]
    assert section_names(response, "due_soon") == ["Gold soon"]
    agenda = response.context["today"]
    assert [a.pk for a in agenda.scheduled.rows] == [day["call"].pk]  # the call in 10 days is past the week
    assert [a.pk for a in agenda.reminders.rows] == [day["reminder"].pk]  # the one in 3 days is not due
    html = response.content.decode()
    assert "Someone else&#39;s" not in html and "Someone else's" not in html
    assert "Stock review" in html and "Warehouse" in html
    assert "https://www.google.com/maps/search/?api=1&amp;query=12.975000%2C77.605000" in html  # navigate
    assert 'class="qa qa-whatsapp' in html and "https://wa.me/919845011111" in html  # one-tap contact
    assert "overdue 2 d" in html and "overdue 10 d" in html and "due in 3 d" in html


def test_a_partner_reassigned_away_disappears(rep_client, day, other_rep, manager):
    partner_update(partner=day["soon"], by=manager, assigned_to=other_rep)
    response = rep_client.get(TODAY)
    assert "Gold soon" not in section_names(response, "due_soon")
    assert not response.context["today"].scheduled.rows  # its meeting went with it, though the rep planned it


def test_done_from_today_completes_and_comes_back(rep_client, day):
    activity = day["reminder"]
    url = reverse("activities:complete", args=[activity.partner_id, activity.pk])
    response = rep_client.post(url, {"next": TODAY})
    assert response.status_code == 302 and response.url == TODAY
    activity.refresh_from_db()
    assert activity.status == Activity.Status.DONE
    assert not rep_client.get(TODAY).context["today"].reminders.rows


def test_done_refuses_an_outside_next(rep_client, day):
    activity = day["reminder"]
    url = reverse("activities:complete", args=[activity.partner_id, activity.pk])
    response = rep_client.post(url, {"next": "https://evil.example/"})
    assert response.url == reverse("partners:detail", args=[activity.partner_id])


def test_another_reps_activity_done_is_404(client, day, other_rep):
    client.force_login(other_rep)
    activity = day["reminder"]
    response = client.post(reverse("activities:complete", args=[activity.partner_id, activity.pk]), {"next": TODAY})
    assert response.status_code == 404
    activity.refresh_from_db()
    assert activity.status == Activity.Status.PLANNED


def test_log_link_prefills_the_kind_and_returns_to_today(rep_client, day):
    html = rep_client.get(TODAY).content.decode()
    log = reverse("activities:log", args=[day["soon"].pk])
    assert f'href="{log}?kind=meeting&amp;next=/today/"' in html
    assert f'href="{reverse("activities:log", args=[day["platinum"].pk])}?next=/today/"' in html


def test_manager_sees_the_team_and_filters_by_rep(manager_client, day, other_rep):
    response = manager_client.get(TODAY)
    # Tier first (both Platinum: the most overdue first), then Silver.
    assert section_names(response, "overdue") == ["Someone else's", "Platinum late", "Silver late"]
    html = response.content.decode()
    assert '<option value="rep2">' in html and '<option value="rep1">' in html  # the rep filter
    response = manager_client.get(TODAY, {"rep": "rep2"})
    assert section_names(response, "overdue") == ["Someone else's"]
    assert not response.context["today"].scheduled.rows
    assert 'value="rep2" selected' in response.content.decode()
    # An unknown rep: everyone, and a message saying so.
    response = manager_client.get(TODAY, {"rep": "nobody"})
    assert len(section_names(response, "overdue")) == 3
    assert "There is no sales rep with that username" in response.content.decode()


def test_a_rep_cannot_use_the_rep_filter(rep_client, day):
    response = rep_client.get(TODAY, {"rep": "rep2"})
    assert section_names(response, "overdue") == ["Platinum late", "Silver late"]
    assert 'name="rep"' not in response.content.decode()


def test_empty_day_says_what_to_do(rep_client):
    html = rep_client.get(TODAY).content.decode()
    assert "Nothing due" in html and reverse("partners:list") in html


def test_sections_are_capped_with_a_link_to_the_list(rep_client, rep):
    due = timezone.now() - timedelta(days=3)
    Partner.objects.bulk_create(
        Partner(code=f"C{number}", name=f"Late {number:02d}", assigned_to=rep, tier=factories.tier("Gold"),
                engagement_due_at=due - timedelta(hours=number))
        for number in range(25)
    )
    response = rep_client.get(TODAY)
    agenda = response.context["today"]
    assert len(agenda.overdue.rows) == 20 and agenda.overdue.section.count == 25
    assert agenda.overdue.rows[0].name == "Late 24"  # most overdue first
    html = response.content.decode()
    assert "5 more" in html and f'{reverse("partners:list")}?overdue=on&amp;sort=due' in html


def make_busy_day(rep, partners):
    """``partners`` overdue partners of ``rep``, each with a contact, a location, a meeting this week, a due reminder
    and a logged WhatsApp message (so every per-row lookup would show as an N+1); and as many overdue customers of
    ``rep`` (issue 13), each with a contact, a location, a call this week and a due reminder."""
    now = timezone.now()
    for number in range(partners):
        customer = factories.customer_with_contacts(name=f"C{number}", assigned_to=rep)
        services.activity_schedule(customer=customer, by=rep, kind="call", start_at=now + timedelta(days=1))
        services.activity_remind(customer=customer, by=rep, start_at=now + timedelta(seconds=1), subject="y")
        Customer.objects.filter(pk=customer.pk).update(engagement_due_at=now - timedelta(days=number + 1))
        factories.TicketFactory(customer=customer, assignee=rep)  # "Tickets needing you" (service, issue 13)
        partner = overdue_partner(rep, f"P{number}", ["Platinum", "Gold", "Silver"][number % 3], number + 1)
        ContactPoint.objects.create(partner=partner, kind="mobile", value=f"+9198450{number:05d}", is_primary=True)
        location = factories.LocationFactory(partner=partner, is_primary=True)
        services.activity_schedule(partner=partner, by=rep, kind="meeting", start_at=now + timedelta(days=2),
                                   location=location)
        services.activity_remind(partner=partner, by=rep, start_at=now + timedelta(seconds=1), subject="x")
        services.activity_log(partner=partner, by=rep, kind="message", channel="whatsapp",
                              start_at=now - timedelta(days=1))
        Partner.objects.filter(pk=partner.pk).update(engagement_due_at=now - timedelta(days=number + 1))
    Activity.objects.filter(mode="reminder").update(start_at=now - timedelta(hours=1))


def test_rep_query_count_is_fixed(rep_client, rep, django_assert_num_queries):
    make_busy_day(rep, 25)
    for partner in Partner.objects.all():  # a "What to do next" card for each (issue 12)
        make_insight(partner, score=partner.pk)
    # 1. session, 2. user, 3. whether the user sees all partners (visibility), 4. overdue partners (capped count +
    # ids, most overdue per tier) and due this week (capped count + ids), one statement, 5. this week's calls and
    # meetings and the due reminders with location and each section's count, one statement, 6. every shown partner's
    # row with tier, assignee, primary contacts, preferred contact and location, 7. their detected channels (one query
    # for all), 8. the top insights with rule, partner and tier (insights.selectors.insights_for_today), 9. customers
    # to engage (capped count, most overdue first) and every shown customer's row (those and the activities'
    # customers) with segment, partner, assignee, primary contacts and location, in one statement
    # (leads.customer_selectors.customers_to_engage), 10. the open tickets assigned to the rep with customer and
    # assignee (service.selectors.tickets_needing).
    with django_assert_num_queries(10):
        response = rep_client.get(TODAY)
    agenda = response.context["today"]
    assert len(agenda.insights) == 10
    assert len(agenda.overdue.rows) == 20 and len(agenda.scheduled.rows) == 20 and len(agenda.reminders.rows) == 20
    assert len(agenda.customers_due.rows) == 20 and agenda.customers_due.section.count == 25
    assert len(agenda.tickets.rows) == 10 and agenda.tickets.more
    assert any(a.customer_id for a in agenda.scheduled.rows) and any(a.customer_id for a in agenda.reminders.rows)
    assert all(p.detected_channel == "whatsapp" for p in agenda.overdue.rows)


def test_manager_query_count_is_fixed(manager_client, rep, other_rep, django_assert_num_queries):
    make_busy_day(rep, 15)
    make_busy_day(other_rep, 15)
    # 1. session, 2. user, 3. visibility, 4. the reps of the filter, 5. overdue and due soon in one statement,
    # 6. meetings and reminders (everyone's: one statement, each section's count capped), 7. partner rows,
    # 8. detected channels, 9. the top insights, 10. customers to engage with the shown customers' rows, 11. the open
    # tickets assigned to the manager.
    with django_assert_num_queries(11):
        response = manager_client.get(TODAY)
    agenda = response.context["today"]
    assert len(agenda.overdue.rows) == 20
    # Everyone's calls and meetings (a partner meeting and a customer call per row of each rep's day) and reminders:
    # the first 20 of each by time, with the section's whole count.
    for section in (agenda.scheduled, agenda.reminders):
        assert len(section.rows) == 20 and section.count == 60 and not section.capped
        assert [(a.start_at, a.pk) for a in section.rows] == sorted((a.start_at, a.pk) for a in section.rows)
    assert {a.mode for a in agenda.scheduled.rows} == {"scheduled"} and {a.mode for a in agenda.reminders.rows} == {
        "reminder"}
    # Filtered to one rep: the meetings and reminders of that rep's partners and customers in one statement.
    with django_assert_num_queries(11):
        manager_client.get(TODAY, {"rep": "rep2"})


def test_query_count_does_not_grow_with_partners(rep_client, rep, django_assert_max_num_queries):
    make_busy_day(rep, 3)
    with django_assert_max_num_queries(14):
        rep_client.get(TODAY)
