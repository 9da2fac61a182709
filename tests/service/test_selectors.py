"""service.selectors: who sees which ticket (one rule for lists, pages and files), and the open-ticket sections of
the customer page, the partner page and Today (one query each, most urgent first)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import QueryDict
from django.utils import timezone

from service import services
from service.models import Ticket
from service.selectors import (
    customer_open_tickets,
    partner_open_tickets,
    ticket_get_for_user,
    ticket_list_filter,
    ticket_visible_to,
    tickets_needing,
)
from tests import factories

pytestmark = pytest.mark.django_db


def test_who_sees_which_ticket(rep, other_rep, manager):
    my_partner = factories.PartnerFactory(assigned_to=rep)
    their_partner = factories.PartnerFactory(assigned_to=other_rep)
    tickets = {
        # a customer assigned to me, brought by another rep's partner
        "my customer": factories.ticket(factories.CustomerFactory(partner=their_partner, assigned_to=rep)),
        # a customer brought by my partner, assigned to another rep
        "my partner's customer": factories.ticket(factories.CustomerFactory(partner=my_partner, assigned_to=other_rep)),
        # someone else's customer, but the ticket is assigned to me
        "assigned to me": factories.ticket(factories.CustomerFactory(partner=their_partner, assigned_to=other_rep),
                                           assignee=rep),
        "theirs": factories.ticket(factories.CustomerFactory(partner=their_partner, assigned_to=other_rep)),
        "nobody's customer": factories.ticket(factories.CustomerFactory(partner=None, assigned_to=None), by=manager),
    }
    mine = {"my customer", "my partner's customer", "assigned to me"}
    expected = {tickets[name].pk for name in mine}
    assert set(ticket_visible_to(rep).values_list("pk", flat=True)) == expected
    everything = QueryDict("assignee=any&status=any")
    assert {t.pk for t in ticket_list_filter(user=rep, data=everything).qs} == expected
    for name, ticket in tickets.items():
        if name in mine:
            assert ticket_get_for_user(rep, ticket.pk).pk == ticket.pk
        else:
            with pytest.raises(Exception, match="No Ticket matches"):
                ticket_get_for_user(rep, ticket.pk)
    assert ticket_visible_to(manager).count() == 5
    rep.is_active = False
    assert not ticket_visible_to(rep).exists()
    assert not ticket_visible_to(AnonymousUser()).exists()


def test_todays_tickets_are_in_the_order_of_the_other_sections(rep, manager, customer):
    """Today's section is a fixed statement (service.selectors._NEEDING_SQL): the same rows and order as the ORM's
    urgency order, paused clocks included (a ticket paused after its due date is breached, one paused before is
    not), for the rep and for a manager's ``?rep=``."""
    now = timezone.now()
    late_then_paused = factories.ticket(customer, priority="low", subject="Late, then waiting", assignee=rep,
                                        now=now - timedelta(days=8))
    services.ticket_set_status(ticket=late_then_paused, by=rep, status=Ticket.Status.WAITING)
    paused_in_time = factories.ticket(customer, priority="urgent", subject="On hold in time", assignee=rep)
    services.ticket_set_status(ticket=paused_in_time, by=rep, status=Ticket.Status.ON_HOLD)
    for number, priority in enumerate(("normal", "high", "low", "urgent", "high")):
        factories.ticket(customer, priority=priority, subject=f"Ticket {number}", assignee=rep)
    expected = [t.pk for t in partner_open_tickets(partner=customer.partner).rows]
    assert expected[0] == late_then_paused.pk and len(expected) == 7
    assert [t.pk for t in tickets_needing(user=rep).rows] == expected
    section = tickets_needing(user=manager, rep=rep.username, limit=6)
    assert [t.pk for t in section.rows] == expected[:6] and section.more
    assert section.list_url == f"/tickets/?assignee={rep.username}"
    assert section.rows[0].customer.name == "Foo Ltd" and section.rows[0].assignee.username == rep.username


def test_open_sections_put_breached_then_urgent_first(rep, customer, django_assert_num_queries):
    now = timezone.now()
    low_late = factories.ticket(customer, priority="low", subject="Low but late", assignee=rep,
                                now=now - timedelta(days=8))
    urgent = factories.ticket(customer, priority="urgent", subject="Urgent", assignee=rep)
    high = factories.ticket(customer, priority="high", subject="High", assignee=rep)
    normal = factories.ticket(customer, priority="normal", subject="Normal", assignee=rep)
    done = factories.ticket(customer, subject="Done", assignee=rep)
    services.ticket_set_status(ticket=done, by=rep, status=Ticket.Status.CLOSED)
    order = [low_late.pk, urgent.pk, high.pk, normal.pk]

    with django_assert_num_queries(1):
        section = customer_open_tickets(customer=customer, limit=3)
    assert [t.pk for t in section.rows] == order[:3] and section.more
    with django_assert_num_queries(1):
        section = partner_open_tickets(partner=customer.partner)
    assert [t.pk for t in section.rows] == order and not section.more
    with django_assert_num_queries(1):
        section = tickets_needing(user=rep)
    assert [t.pk for t in section.rows] == order and section.list_url == "/tickets/?assignee=me"
    with django_assert_num_queries(1):
        assert tickets_needing(user=rep, rep="nobody-of-that-name").rows == []
    for ticket in section.rows:  # what the rows show needs no further query
        with django_assert_num_queries(0):
            assert ticket.customer.name and ticket.resolution_clock().label
