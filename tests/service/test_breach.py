"""The beat's breach claim (service.breach): one notification per breach for the assignee and the customer's rep, safe
to run twice or in parallel, nothing for stopped clocks, and the email through the real SMTP path."""

import threading
from datetime import timedelta

import pytest
from django.db import connections

from notifications.models import Notification
from prm.celery import app
from service import services, tasks
from service.models import Ticket
from tests import factories

pytestmark = pytest.mark.django_db


def at(ticket, minutes):
    return ticket.created_at + timedelta(minutes=minutes)


def test_a_breach_notifies_the_assignee_and_the_customers_rep_once(customer, rep, other_rep):
    ticket = factories.ticket(customer, priority="urgent", subject="Printer down", assignee=other_rep)
    assert services.tickets_notify_breaches(now=at(ticket, 30)) == 0  # nothing due yet

    assert services.tickets_notify_breaches(now=at(ticket, 61)) == 2  # first response: assignee + rep
    assert services.tickets_notify_breaches(now=at(ticket, 62)) == 0  # a second run finds nothing
    assert services.tickets_notify_breaches(now=at(ticket, 241)) == 2  # resolution
    assert services.tickets_notify_breaches(now=at(ticket, 300)) == 0

    rows = list(Notification.objects.filter(event="ticket_breach").order_by("created_at", "recipient_id"))
    assert [n.recipient for n in rows] == [rep, other_rep, rep, other_rep]  # rep1 and rep2, for each kind
    first, last = rows[0], rows[-1]
    assert first.title == f"Ticket #{ticket.pk} past its first response time: Printer down · Foo Ltd"
    assert last.title == f"Ticket #{ticket.pk} past its resolution time: Printer down · Foo Ltd"
    assert first.link == f"/tickets/{ticket.pk}/" and first.body.startswith("Urgent priority; the first response")
    ticket.refresh_from_db()
    assert ticket.response_breach_notified_at == at(ticket, 61)
    assert ticket.resolution_breach_notified_at == at(ticket, 241)


def test_the_same_person_is_told_once_and_inactive_users_not_at_all(customer, rep, other_rep):
    mine = factories.ticket(customer, priority="urgent", assignee=rep, subject="Mine")
    theirs = factories.ticket(customer, priority="urgent", assignee=other_rep, subject="Theirs")
    other_rep.is_active = False
    other_rep.save()
    assert services.tickets_notify_breaches(now=at(theirs, 61)) == 2  # rep, once per ticket
    breaches = Notification.objects.filter(event="ticket_breach")
    assert set(breaches.values_list("recipient", flat=True)) == {rep.pk}
    assert {mine.pk, theirs.pk} == {int(n.link.split("/")[2]) for n in breaches}


def test_a_ticket_with_nobody_to_tell_is_claimed_silently(rep):
    lonely = factories.CustomerFactory(partner=None, assigned_to=None)
    ticket = factories.ticket(lonely, by=rep, priority="urgent")
    assert services.tickets_notify_breaches(now=at(ticket, 300)) == 0
    ticket.refresh_from_db()
    assert ticket.response_breach_notified_at and ticket.resolution_breach_notified_at


def test_stopped_clocks_and_answered_tickets_do_not_breach(customer, rep):
    waiting = factories.ticket(customer, priority="urgent", subject="Waiting")
    services.ticket_set_status(ticket=waiting, by=rep, status=Ticket.Status.WAITING, now=at(waiting, 10))
    answered = factories.ticket(customer, priority="urgent", subject="Answered")
    services.ticket_comment(ticket=answered, by=rep, body="On it", now=at(answered, 5))
    resolved = factories.ticket(customer, priority="urgent", subject="Resolved")
    services.ticket_set_status(ticket=resolved, by=rep, status=Ticket.Status.RESOLVED, now=at(resolved, 5))

    assert services.tickets_notify_breaches(now=at(waiting, 120)) == 0  # past the first response: only answered
    assert services.tickets_notify_breaches(now=at(waiting, 300)) == 1  # past resolution: the answered one
    assert Notification.objects.get().title.startswith(f"Ticket #{answered.pk} past its resolution time")
    # The waiting ticket runs again after 5 h: its due dates moved by the stopped time, so it is not breached yet.
    services.ticket_set_status(ticket=waiting, by=rep, status=Ticket.Status.OPEN, now=at(waiting, 310))
    assert services.tickets_notify_breaches(now=at(waiting, 311)) == 0
    assert services.tickets_notify_breaches(now=at(waiting, 60 + 300 + 1)) == 1


def test_a_new_due_date_breached_again_notifies_again(customer, rep):
    ticket = factories.ticket(customer, priority="urgent")
    services.ticket_comment(ticket=ticket, by=rep, body="Looking", now=at(ticket, 1))
    assert services.tickets_notify_breaches(now=at(ticket, 250)) == 1
    services.ticket_set_priority(ticket=ticket, by=rep, priority="high", now=at(ticket, 250))  # due at +24 h now
    assert services.tickets_notify_breaches(now=at(ticket, 260)) == 0
    assert services.tickets_notify_breaches(now=at(ticket, 24 * 60 + 1)) == 1
    keys = sorted(Notification.objects.values_list("source_key", flat=True))
    assert len(keys) == 2 and len(set(keys)) == 2  # the due timestamp is part of the key


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_notify_once(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    customer = factories.CustomerFactory(partner=partner, assigned_to=rep)
    tickets = [factories.ticket(customer, priority="urgent", subject=f"T{n}") for n in range(20)]
    now = at(tickets[-1], 300)
    barrier, results = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            results.append(services.tickets_notify_breaches(now=now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 40  # 20 tickets × (first response + resolution), one recipient
    assert Notification.objects.count() == 40


def test_the_beat_runs_it_every_minute():
    entry = app.conf.beat_schedule["notify-ticket-breaches"]
    assert entry["task"] == "service.tasks.notify_breaches" and entry["schedule"] == 60.0
    assert entry["options"]["expires"] < 60
    assert tasks.notify_breaches.name == "service.tasks.notify_breaches"


def test_the_task_notifies_and_the_email_goes_out_after_the_commit(customer, rep, smtp_server,  # noqa: F811
                                                                   django_capture_on_commit_callbacks):
    ticket = factories.ticket(customer, priority="urgent", subject="Printer down")
    Ticket.objects.filter(pk=ticket.pk).update(created_at=at(ticket, -500), first_response_due_at=at(ticket, -400),
                                               resolution_due_at=at(ticket, -10))
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the enqueued email task runs in this process
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert tasks.notify_breaches() == 2
        assert smtp_server.messages == []  # nothing is sent before the commit
        for callback in callbacks:
            callback()
    finally:
        app.conf.task_always_eager = eager
    # (a long non-ASCII subject is folded: the parsed header keeps the fold's leading space)
    subjects = sorted(str(message["Subject"]).strip() for _recipients, message in smtp_server.messages)
    assert subjects == [f"Ticket #{ticket.pk} past its first response time: Printer down · Foo Ltd",
                        f"Ticket #{ticket.pk} past its resolution time: Printer down · Foo Ltd"]
    recipients, message = smtp_server.messages[0]
    assert recipients == [rep.email]
    assert f"https://prm.example.com/tickets/{ticket.pk}/" in message.get_body(("plain",)).get_content()
    assert set(Notification.objects.values_list("email_state", flat=True)) == {"sent"}
