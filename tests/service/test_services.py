"""service.services: due dates from the service levels, the clock stopping and running again, priority changes,
status rules (reopening), first response, assignment, double submits — against the real PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from notifications.models import Notification
from service import services
from service.models import ServiceLevel, Ticket, TicketComment, TicketStatusChange
from tests import factories

pytestmark = pytest.mark.django_db
Status = Ticket.Status


def at(ticket, minutes):
    """A moment ``minutes`` after the ticket was created."""
    return ticket.created_at + timedelta(minutes=minutes)


def test_create_takes_the_due_dates_of_its_priority(customer, rep):
    ticket = factories.ticket(customer, priority="urgent", subject="Printer down")
    assert ticket.first_response_due_at == ticket.created_at + timedelta(hours=1)
    assert ticket.resolution_due_at == ticket.created_at + timedelta(hours=4)
    assert (ticket.status, ticket.created_by, ticket.paused_at) == (Status.NEW, rep, None)
    assert list(ticket.history.values_list("field", "to_value")) == [("status", "new")]


def test_an_edited_service_level_applies_to_new_tickets(customer):
    before = factories.ticket(customer, priority="normal", subject="Before")
    ServiceLevel.objects.filter(priority="normal").update(first_response_minutes=30, resolution_minutes=90)
    after = factories.ticket(customer, priority="normal", subject="After")
    assert after.resolution_due_at == after.created_at + timedelta(minutes=90)
    before.refresh_from_db()
    assert before.resolution_due_at == before.created_at + timedelta(days=3)  # a ticket keeps its dates


def test_a_missing_service_level_falls_back_to_the_defaults(customer):
    ServiceLevel.objects.filter(priority="low").delete()
    ticket = factories.ticket(customer, priority="low")
    assert ticket.resolution_due_at == ticket.created_at + timedelta(days=7)


def test_service_level_save_refuses_a_resolution_before_the_response():
    level = ServiceLevel.objects.get(priority="high")
    level.resolution_minutes = 10
    with pytest.raises(ValidationError) as error:
        services.service_level_save(level=level)
    assert "resolution" in str(error.value)
    level.resolution_minutes, level.first_response_minutes = 120, 0
    with pytest.raises(ValidationError) as error:
        services.service_level_save(level=level)
    assert "first_response_minutes" in error.value.message_dict


def test_on_hold_pauses_the_clock_and_resuming_shifts_both_due_dates(customer, rep):
    ticket = factories.ticket(customer, priority="high")  # response due +4 h, resolution +24 h
    response_due, resolution_due = ticket.first_response_due_at, ticket.resolution_due_at

    assert services.ticket_set_status(ticket=ticket, by=rep, status=Status.ON_HOLD, now=at(ticket, 60))
    ticket.refresh_from_db()
    assert ticket.paused_at == at(ticket, 60)
    clock = ticket.resolution_clock(now=at(ticket, 600))  # stopped: reads as of the pause, whatever the time
    assert (clock.state, clock.label) == ("paused", "paused, 23 h left")

    services.ticket_set_status(ticket=ticket, by=rep, status=Status.WAITING, now=at(ticket, 120))  # still stopped
    ticket.refresh_from_db()
    assert ticket.paused_at == at(ticket, 60)

    services.ticket_set_status(ticket=ticket, by=rep, status=Status.OPEN, now=at(ticket, 60 + 150))
    ticket.refresh_from_db()
    assert ticket.paused_at is None and ticket.paused_total == timedelta(minutes=150)
    assert ticket.first_response_due_at == response_due + timedelta(minutes=150)
    assert ticket.resolution_due_at == resolution_due + timedelta(minutes=150)
    assert ticket.resolution_clock(now=at(ticket, 60 + 150)).label == "due in 23 h"
    assert [(h.from_value, h.to_value) for h in ticket.history.filter(field="status")] == [
        ("", "new"), ("new", "on_hold"), ("on_hold", "waiting"), ("waiting", "open")]


def test_a_response_already_given_keeps_its_due_date_when_the_clock_runs_again(customer, rep):
    ticket = factories.ticket(customer, priority="urgent")
    services.ticket_comment(ticket=ticket, by=rep, body="On it", now=at(ticket, 90))  # 30 min late
    services.ticket_set_status(ticket=ticket, by=rep, status=Status.WAITING, now=at(ticket, 100))
    services.ticket_set_status(ticket=ticket, by=rep, status=Status.OPEN, now=at(ticket, 400))
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == at(ticket, 60)  # not moved: the response stays late
    assert ticket.response_clock().label == "met 30 min late"
    assert ticket.resolution_due_at == at(ticket, 240 + 300)


def test_resolving_stops_the_clock_and_reopening_goes_on_from_there(customer, rep):
    ticket = factories.ticket(customer, priority="urgent")
    services.ticket_set_status(ticket=ticket, by=rep, status=Status.RESOLVED, now=at(ticket, 100))
    ticket.refresh_from_db()
    assert ticket.resolved_at == at(ticket, 100) and ticket.resolution_clock().state == "met"
    assert ticket.response_clock().state == "none"  # resolved without a reply: no response to measure
    services.ticket_set_status(ticket=ticket, by=rep, status=Status.OPEN, now=at(ticket, 1000))
    ticket.refresh_from_db()
    assert ticket.resolved_at is None
    assert ticket.resolution_due_at == at(ticket, 240 + 900)  # 140 min were left, and still are
    assert ticket.resolution_clock(now=at(ticket, 1000)).label == "due in 2 h 20 min"


def test_closing_sets_both_times_and_only_the_assignee_or_a_manager_reopens(customer, rep, other_rep, manager):
    ticket = factories.ticket(customer, assignee=other_rep)
    services.ticket_set_status(ticket=ticket, by=rep, status=Status.CLOSED)
    ticket.refresh_from_db()
    assert ticket.closed_at is not None and ticket.resolved_at == ticket.closed_at

    with pytest.raises(ValidationError) as error:  # the customer's rep is neither the assignee nor a manager
        services.ticket_set_status(ticket=ticket, by=rep, status=Status.OPEN)
    assert error.value.message_dict == {"status": ["Only the ticket's assignee or a manager can reopen a closed "
                                                   "ticket."]}
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.history.count() == 3  # new, assignee, closed: nothing written

    assert services.ticket_set_status(ticket=ticket, by=other_rep, status=Status.OPEN)  # the assignee
    ticket.refresh_from_db()
    assert ticket.closed_at is None and ticket.resolved_at is None and ticket.paused_at is None
    services.ticket_set_status(ticket=ticket, by=rep, status=Status.CLOSED)
    assert services.ticket_set_status(ticket=ticket, by=manager, status=Status.RESOLVED)  # a manager
    ticket.refresh_from_db()
    assert ticket.closed_at is None and ticket.resolved_at is not None


def test_a_resolved_ticket_may_be_reopened_by_anyone_who_sees_it(customer, rep, other_rep):
    ticket = factories.ticket(customer, assignee=other_rep)
    services.ticket_set_status(ticket=ticket, by=other_rep, status=Status.RESOLVED)
    assert services.ticket_set_status(ticket=ticket, by=rep, status=Status.OPEN)


def test_the_same_status_twice_changes_nothing(customer, rep):
    ticket = factories.ticket(customer)
    assert services.ticket_set_status(ticket=ticket, by=rep, status=Status.ON_HOLD)
    assert not services.ticket_set_status(ticket=ticket, by=rep, status=Status.ON_HOLD)  # a double submit
    assert ticket.history.filter(to_value="on_hold").count() == 1


@pytest.mark.parametrize("bad", ["", "deleted", "NEW", "x" * 500, None])
def test_an_unknown_status_or_priority_is_refused(customer, rep, bad):
    ticket = factories.ticket(customer)
    with pytest.raises(ValidationError) as error:
        services.ticket_set_status(ticket=ticket, by=rep, status=bad)
    assert "status" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.ticket_set_priority(ticket=ticket, by=rep, priority=bad)
    assert "priority" in error.value.message_dict


def test_a_priority_change_recomputes_the_due_dates(customer, rep):
    ticket = factories.ticket(customer, priority="low")
    services.ticket_set_status(ticket=ticket, by=rep, status=Status.ON_HOLD, now=at(ticket, 10))
    services.ticket_set_status(ticket=ticket, by=rep, status=Status.OPEN, now=at(ticket, 40))  # 30 min stopped
    assert services.ticket_set_priority(ticket=ticket, by=rep, priority="urgent", now=at(ticket, 50))
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == at(ticket, 60 + 30)
    assert ticket.resolution_due_at == at(ticket, 240 + 30)
    assert not services.ticket_set_priority(ticket=ticket, by=rep, priority="urgent")
    change = ticket.history.get(field="priority")
    assert (change.from_value, change.to_value, change.changed_by) == ("low", "urgent", rep)


def test_a_priority_change_back_on_time_clears_the_breach_marker(customer, rep):
    ticket = factories.ticket(customer, priority="urgent")
    later = at(ticket, 300)  # past both urgent due dates
    assert services.tickets_notify_breaches(now=later) >= 1
    ticket.refresh_from_db()
    assert ticket.resolution_breach_notified_at == later
    services.ticket_set_priority(ticket=ticket, by=rep, priority="low", now=later)
    ticket.refresh_from_db()
    assert ticket.resolution_breach_notified_at is None and ticket.response_breach_notified_at is None


def test_the_first_public_comment_is_the_first_response(customer, rep):
    ticket = factories.ticket(customer)
    services.ticket_comment(ticket=ticket, by=rep, body="Checking with the warehouse", internal=True,
                            now=at(ticket, 5))
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None and ticket.status == Status.NEW  # an internal note is no reply
    services.ticket_comment(ticket=ticket, by=rep, body="We are on it", now=at(ticket, 20))
    services.ticket_comment(ticket=ticket, by=rep, body="Update: shipped", now=at(ticket, 30))
    ticket.refresh_from_db()
    assert ticket.first_responded_at == at(ticket, 20) and ticket.status == Status.OPEN
    assert ticket.response_clock().state == "met"
    assert ticket.history.filter(from_value="new", to_value="open").count() == 1


def test_a_comment_needs_text_and_a_closed_ticket_takes_none(customer, rep):
    ticket = factories.ticket(customer)
    for body in ("", "   \n "):
        with pytest.raises(ValidationError) as error:
            services.ticket_comment(ticket=ticket, by=rep, body=body)
        assert "body" in error.value.message_dict
    services.ticket_set_status(ticket=ticket, by=rep, status=Status.CLOSED)
    with pytest.raises(ValidationError) as error:
        services.ticket_comment(ticket=ticket, by=rep, body="Hello")
    assert error.value.message_dict == {"body": ["This ticket is closed: reopen it to add a comment."]}
    assert not TicketComment.objects.exists()


def test_a_double_submitted_comment_or_ticket_is_written_once(customer, rep):
    first = factories.ticket(customer, subject="Invoice wrong", description="Twice billed")
    again = factories.ticket(customer, subject="Invoice wrong", description="Twice billed")
    assert again.pk == first.pk and Ticket.objects.count() == 1
    one = services.ticket_comment(ticket=first, by=rep, body="Refund issued")
    two = services.ticket_comment(ticket=first, by=rep, body="Refund issued")
    assert one.pk == two.pk and TicketComment.objects.count() == 1
    # After the window, the same text is a new comment.
    later = services.ticket_comment(ticket=first, by=rep, body="Refund issued",
                                    now=timezone.now() + timedelta(seconds=services.DOUBLE_SUBMIT_SECONDS + 1))
    assert later.pk != one.pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_status_changes_at_once_act_once(rep):
    """Two requests moving the same ticket to on hold at the same moment (a double tap on two connections): the
    row lock serialises them, the second sees on hold and does nothing."""
    partner = factories.PartnerFactory(assigned_to=rep)
    ticket = factories.ticket(factories.CustomerFactory(partner=partner, assigned_to=rep))
    barrier, results = threading.Barrier(2), []

    def change():
        try:
            barrier.wait()
            results.append(services.ticket_set_status(ticket=Ticket.objects.get(pk=ticket.pk), by=rep,
                                                      status=Status.ON_HOLD))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=change) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert TicketStatusChange.objects.filter(ticket=ticket, to_value="on_hold").count() == 1


def test_assigning_tells_the_new_assignee_once(customer, rep, other_rep):
    ticket = factories.ticket(customer)
    assert services.ticket_assign(ticket=ticket, by=rep, assignee=other_rep)
    assert not services.ticket_assign(ticket=ticket, by=rep, assignee=other_rep)  # a double submit
    notification = Notification.objects.get()
    assert (notification.recipient, notification.event) == (other_rep, "ticket_assigned")
    assert notification.title == f"Ticket #{ticket.pk} assigned to you: Ticket of Foo Ltd · Foo Ltd"
    assert notification.link == f"/tickets/{ticket.pk}/"
    assert services.ticket_assign(ticket=ticket, by=rep, assignee=rep)  # taking it yourself: nobody to tell
    assert services.ticket_assign(ticket=ticket, by=rep, assignee=None)
    assert Notification.objects.count() == 1
    assert list(ticket.history.filter(field="assignee").values_list("to_value", flat=True)) == [
        other_rep.get_full_name(), rep.get_full_name(), ""]


def test_only_reps_and_managers_can_take_tickets(customer, rep):
    outsider = factories.UserFactory(username="outsider")
    ticket = factories.ticket(customer)
    with pytest.raises(ValidationError) as error:
        services.ticket_assign(ticket=ticket, by=rep, assignee=outsider)
    assert "assignee" in error.value.message_dict
    with pytest.raises(ValidationError):
        factories.ticket(customer, subject="Other", assignee=outsider)
    assert Ticket.objects.count() == 1
