"""The ticket pages: the list's filters and query budget, the ticket page's, the scoping of every verb (another rep's
ticket is a 404 on GET and POST, attachments included), a new ticket from a customer, and bad input."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from service import services
from service.models import Ticket, TicketAttachment, TicketComment, TicketStatusChange
from tests import factories

pytestmark = pytest.mark.django_db
LIST = "/tickets/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def detail(ticket, action=""):
    return f"/tickets/{ticket.pk}/{action + '/' if action else ''}"


def listed(response) -> list[int]:
    return [ticket.pk for ticket in response.context["tickets"]]


# --- The list -----------------------------------------------------------------------------------------------------------


def test_a_reps_list_shows_their_open_tickets_by_due_date(rep_client, rep, other_rep, customer, other_customer):
    urgent = factories.ticket(customer, priority="urgent", subject="Urgent", assignee=rep)
    normal = factories.ticket(customer, priority="normal", subject="Normal", assignee=rep)
    unassigned = factories.ticket(customer, subject="Nobody's")
    done = factories.ticket(customer, subject="Done", assignee=rep)
    services.ticket_set_status(ticket=done, by=rep, status=Ticket.Status.RESOLVED)
    factories.ticket(other_customer, subject="Theirs", assignee=other_rep)

    response = rep_client.get(LIST)
    assert response.status_code == 200
    assert listed(response) == [urgent.pk, normal.pk]  # mine and open, the earliest due first
    assert response.context["summary"] == "Open · Me"
    html = response.content.decode()
    assert f"#{urgent.pk} Urgent" in html and "resolve due in 3 h 59 min" in html

    assert listed(rep_client.get(LIST, {"assignee": "any"})) == [urgent.pk, normal.pk, unassigned.pk]
    assert listed(rep_client.get(LIST, {"assignee": "none"})) == [unassigned.pk]
    assert listed(rep_client.get(LIST, {"assignee": "any", "status": "any"})) == [
        urgent.pk, normal.pk, unassigned.pk, done.pk]
    assert listed(rep_client.get(LIST, {"status": "resolved"})) == [done.pk]
    assert listed(rep_client.get(LIST, {"priority": "urgent"})) == [urgent.pk]
    assert listed(rep_client.get(LIST, {"sort": "-due"})) == [normal.pk, urgent.pk]
    assert listed(rep_client.get(LIST, {"sort": "-created"})) == [normal.pk, urgent.pk]


def test_filters_by_customer_partner_and_breach(manager_client, rep, customer, other_customer):
    late = factories.ticket(customer, priority="urgent", subject="Late", now=timezone.now() - timedelta(hours=5))
    unanswered = factories.ticket(customer, priority="urgent", subject="No reply",
                                  now=timezone.now() - timedelta(minutes=90))  # first response 30 min late
    fine = factories.ticket(customer, priority="low", subject="Fine")
    other = factories.ticket(other_customer, subject="Other customer")
    paused = factories.ticket(customer, priority="urgent", subject="Paused in time",
                              now=timezone.now() - timedelta(hours=5))
    services.ticket_set_status(ticket=paused, by=rep, status=Ticket.Status.ON_HOLD,
                               now=paused.created_at + timedelta(minutes=10))  # stopped before its due dates

    assert set(listed(manager_client.get(LIST))) == {late.pk, unanswered.pk, fine.pk, other.pk, paused.pk}
    assert listed(manager_client.get(LIST, {"breached": "on"})) == [late.pk, unanswered.pk]
    assert set(listed(manager_client.get(LIST, {"customer": other_customer.pk}))) == {other.pk}
    assert set(listed(manager_client.get(LIST, {"partner": customer.partner_id}))) == {
        late.pk, unanswered.pk, fine.pk, paused.pk}
    assert listed(manager_client.get(LIST, {"assignee": rep.username})) == []
    services.ticket_assign(ticket=fine, by=rep, assignee=rep)
    assert listed(manager_client.get(LIST, {"assignee": rep.username})) == [fine.pk]


def test_a_rep_never_sees_another_reps_tickets(rep_client, other_rep, other_customer):
    theirs = factories.ticket(other_customer, subject="Theirs", assignee=other_rep)
    for params in ({}, {"assignee": "any"}, {"assignee": "any", "status": "any"},
                   {"assignee": other_rep.username}, {"customer": other_customer.pk},
                   {"partner": other_customer.partner_id, "assignee": "any"}):
        assert theirs.pk not in listed(rep_client.get(LIST, params)), params


def test_a_ticket_assigned_to_a_rep_on_someone_elses_customer_is_theirs_to_see(rep_client, rep, other_customer):
    ticket = factories.ticket(other_customer, assignee=rep)
    assert listed(rep_client.get(LIST)) == [ticket.pk]
    assert rep_client.get(detail(ticket)).status_code == 200


@pytest.mark.parametrize("params", [
    {"status": "bogus"}, {"priority": "<script>"}, {"assignee": "' OR 1=1 --"}, {"sort": "subject; DROP"},
    {"customer": "abc"}, {"customer": "99999999999999999999999"}, {"partner": "-1"}, {"page": "9" * 30},
    {"page": "-3"}, {"breached": "maybe"}, {"status": ["open", "closed"]}, {"customer": "\x00"},
])
def test_bad_filters_never_widen_the_list_or_fail(rep_client, rep, other_rep, customer, other_customer, params):
    mine = factories.ticket(customer, assignee=rep)
    factories.ticket(other_customer, assignee=other_rep)
    response = rep_client.get(LIST, params)
    assert response.status_code == 200
    assert set(listed(response)) <= {mine.pk}


def test_the_page_past_the_end_shows_the_last(rep_client, customer, rep):
    for number in range(30):
        factories.TicketFactory(customer=customer, assignee=rep, subject=f"T{number}")
    response = rep_client.get(LIST, {"page": 7})
    assert response.context["page"].number == 2 and len(listed(response)) == 5


def test_list_query_count_is_fixed(client, rep, manager, customer, django_assert_num_queries):
    factories.TicketFactory.create_batch(30, customer=customer, assignee=rep)
    client.force_login(rep)
    # 1. session, 2. user, 3. visibility (user_sees_all_partners), 4. the capped count and the page's ids (one
    # statement), 5. the page's rows with customer and assignee.
    with django_assert_num_queries(5):
        response = client.get(LIST, {"status": "open", "priority": "normal", "sort": "-created"})
    assert response.status_code == 200
    with django_assert_num_queries(5):
        response = client.get(LIST)
    assert len(listed(response)) == 25 and response.context["page"].has_next
    client.force_login(manager)
    # A manager: the same, plus 4. the users the "Assignee" filter offers.
    with django_assert_num_queries(6):
        response = client.get(LIST, {"assignee": rep.username})
    assert len(listed(response)) == 25


def test_counts_stop_at_the_cap(rep_client, rep, customer, monkeypatch):
    monkeypatch.setattr("service.selectors.COUNT_CAP", 10)
    factories.TicketFactory.create_batch(30, customer=customer, assignee=rep)
    page = rep_client.get(LIST).context["page"]
    assert (page.count, page.count_capped) == (10, True)
    assert "10+ tickets" in rep_client.get(LIST).content.decode()


# --- The ticket page ----------------------------------------------------------------------------------------------------


def test_ticket_page_shows_clocks_thread_files_and_history(rep_client, rep, other_rep, customer):
    ticket = factories.ticket(customer, priority="high", subject="Broken <b>pump</b>", description="It leaks\nbadly",
                              assignee=other_rep)
    services.ticket_comment(ticket=ticket, by=rep, body="Spoke to the <i>warehouse</i>", internal=True)
    services.ticket_comment(ticket=ticket, by=rep, body="A technician comes tomorrow",
                            upload=SimpleUploadedFile("photo.png", PNG))
    services.ticket_set_status(ticket=ticket, by=rep, status=Ticket.Status.WAITING, note="Awaiting access")

    response = rep_client.get(detail(ticket))
    html = response.content.decode()
    assert "Broken &lt;b&gt;pump&lt;/b&gt;" in html and "<b>pump" not in html  # escaped
    assert "It leaks<br>badly" in html
    assert "Spoke to the &lt;i&gt;warehouse&lt;/i&gt;" in html
    assert html.count("internal note") >= 1 and "comment-internal" in html
    attachment = TicketAttachment.objects.get()
    assert f'href="/tickets/{ticket.pk}/files/{attachment.pk}/"' in html and "photo.png" in html
    assert "paused, 23 h" in html  # the resolution clock stopped while waiting on the customer
    assert "Awaiting access" in html and "Waiting on customer" in html
    assert f'action="/tickets/{ticket.pk}/status/"' in html


def test_ticket_page_query_count_is_fixed(rep_client, rep, customer, django_assert_num_queries):
    ticket = factories.ticket(customer, assignee=rep)
    for number in range(15):
        services.ticket_comment(ticket=ticket, by=rep, body=f"Comment {number}", internal=number % 2 == 0,
                                upload=SimpleUploadedFile(f"f{number}.png", PNG) if number % 3 == 0 else None)
        services.ticket_set_status(ticket=ticket, by=rep, status=["on_hold", "open"][number % 2])
    # 1. session, 2. user, 3. visibility, 4. the ticket with customer, partner, customer's rep, assignee and creator,
    # 5. the comments with their authors, 6. the attachments with who uploaded them, 7. the history with who changed
    # it, 8. the users it may be assigned to.
    with django_assert_num_queries(8):
        response = rep_client.get(detail(ticket))
    assert len(response.context["comments"]) == 15 and len(response.context["attachments"]) == 5


# --- Scoping: 404 on every verb -------------------------------------------------------------------------------------


def test_another_reps_ticket_is_a_404_on_every_verb(client, rep, other_rep, other_customer):
    ticket = factories.ticket(other_customer, assignee=other_rep)
    attachment = services.ticket_attach(ticket=ticket, by=other_rep, upload=SimpleUploadedFile("a.png", PNG))
    client.force_login(rep)
    for url in (detail(ticket), detail(ticket, "comment"), detail(ticket, "status"), detail(ticket, "priority"),
                detail(ticket, "assign"), f"/tickets/{ticket.pk}/files/{attachment.pk}/"):
        assert client.get(url).status_code == 404, url
    posts = {
        "comment": {"body": "Mine now"}, "status": {"status": "closed"}, "priority": {"priority": "low"},
        "assign": {"assignee": rep.pk},
    }
    for action, data in posts.items():
        assert client.post(detail(ticket, action), data).status_code == 404, action
    assert client.post(f"/tickets/{ticket.pk}/files/{attachment.pk}/").status_code in (404, 405)
    assert client.get(f"/tickets/new/?customer={other_customer.pk}").status_code == 404
    assert client.post(f"/tickets/new/?customer={other_customer.pk}", {"subject": "x", "type": "question",
                                                                        "priority": "low"}).status_code == 404
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("new", "normal", other_rep)
    assert not TicketComment.objects.exists() and Ticket.objects.count() == 1


def test_unknown_ids_are_404s(rep_client):
    for url in ("/tickets/999999/", "/tickets/999999/comment/", "/tickets/new/?customer=999999",
                "/tickets/new/?customer=abc", "/tickets/new/?customer=" + "9" * 40):
        assert rep_client.get(url).status_code == 404, url


# --- New ticket -------------------------------------------------------------------------------------------------------


def test_new_ticket_from_a_customer(rep_client, rep, customer):
    url = f"/tickets/new/?customer={customer.pk}"
    form = rep_client.get(url)
    assert form.status_code == 200 and "Foo Ltd" in form.content.decode()
    assert form.context["form"]["assignee"].value() == rep.pk  # assigned to the rep by default
    response = rep_client.post(url, {"subject": "Invoice twice", "description": "Billed twice in Nov",
                                     "type": "request", "priority": "high", "assignee": rep.pk})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}/"
    assert (ticket.customer, ticket.type, ticket.priority, ticket.assignee, ticket.created_by) == (
        customer, "request", "high", rep, rep)
    # A double submit: the same ticket again.
    again = rep_client.post(url, {"subject": "Invoice twice", "description": "Billed twice in Nov",
                                  "type": "request", "priority": "high", "assignee": rep.pk})
    assert again["Location"] == f"/tickets/{ticket.pk}/" and Ticket.objects.count() == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"subject": "", "type": "question", "priority": "low"}, "subject"),
    ({"subject": "x" * 201, "type": "question", "priority": "low"}, "subject"),
    ({"subject": "ok", "type": "complaint", "priority": "low"}, "type"),
    ({"subject": "ok", "type": "question", "priority": "critical"}, "priority"),
    ({"subject": "ok", "type": "question", "priority": "low", "assignee": "abc"}, "assignee"),
    ({"subject": "ok", "type": "question", "priority": "low", "assignee": "999999"}, "assignee"),
])
def test_new_ticket_errors_name_the_field(rep_client, customer, data, field):
    response = rep_client.post(f"/tickets/new/?customer={customer.pk}", data)
    assert response.status_code == 400 and field in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_new_ticket_without_a_customer_points_to_the_customers(rep_client):
    response = rep_client.get("/tickets/new/")
    assert response.status_code == 200 and 'href="/customers/"' in response.content.decode()


# --- Actions ----------------------------------------------------------------------------------------------------------


def test_status_priority_assign_and_comment_through_the_page(rep_client, rep, other_rep, customer):
    ticket = factories.ticket(customer)
    assert rep_client.post(detail(ticket, "comment"), {"body": "Hello", "internal": ""})["Location"] == \
        f"/tickets/{ticket.pk}/#comments"
    assert rep_client.post(detail(ticket, "status"), {"status": "on_hold", "note": "Parts"}).status_code == 302
    assert rep_client.post(detail(ticket, "priority"), {"priority": "urgent"}).status_code == 302
    assert rep_client.post(detail(ticket, "assign"), {"assignee": other_rep.pk}).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.first_responded_at is not None) == (
        "on_hold", "urgent", other_rep, True)
    assert TicketStatusChange.objects.get(to_value="on_hold").note == "Parts"
    # A GET on an action goes back to the page.
    assert rep_client.get(detail(ticket, "status"))["Location"] == f"/tickets/{ticket.pk}/#ticket-head"


def test_action_errors_come_back_on_the_page(rep_client, rep, other_rep, customer):
    ticket = factories.ticket(customer, assignee=other_rep)
    services.ticket_set_status(ticket=ticket, by=other_rep, status=Ticket.Status.CLOSED)
    response = rep_client.post(detail(ticket, "status"), {"status": "open"})
    assert response.status_code == 400
    assert "Only the ticket&#x27;s assignee or a manager can reopen a closed ticket." in response.content.decode()
    assert response.context["status_form"].errors["status"]
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    page = rep_client.get(detail(ticket)).content.decode()
    assert 'id="reopen-note"' in page and f'action="/tickets/{ticket.pk}/comment/"' not in page

    open_ticket = factories.ticket(customer, subject="Open one")
    for action, data, field in (("status", {"status": "gone"}, "status"), ("priority", {"priority": "p1"}, "priority"),
                                ("assign", {"assignee": "x"}, "assignee"), ("comment", {"body": " "}, "body")):
        response = rep_client.post(detail(open_ticket, action), data)
        assert response.status_code == 400, action
        assert field in response.context[f"{action}_form"].errors, action


def test_an_oversized_or_refused_upload_is_an_error_on_the_field(rep_client, customer, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 100
    ticket = factories.ticket(customer)
    response = rep_client.post(detail(ticket, "comment"), {
        "body": "See file", "file": SimpleUploadedFile("big.png", PNG.ljust(500, b"\x00"))})
    assert response.status_code == 400
    assert response.context["comment_form"].errors["file"] == ["The file is 500 bytes: the limit is 100 bytes."]
    response = rep_client.post(detail(ticket, "comment"), {
        "body": "See file", "file": SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>")})
    assert "Files of type .svg are not accepted" in response.context["comment_form"].errors["file"][0]
    assert not TicketComment.objects.exists() and not TicketAttachment.objects.exists()


# --- Other pages ----------------------------------------------------------------------------------------------------


def test_open_tickets_on_the_customer_partner_and_today_pages(rep_client, rep, customer):
    late = factories.ticket(customer, priority="urgent", subject="Late one", assignee=rep,
                            now=timezone.now() - timedelta(hours=5))
    low = factories.ticket(customer, priority="low", subject="Low one", assignee=rep)
    done = factories.ticket(customer, subject="Done one", assignee=rep)
    services.ticket_set_status(ticket=done, by=rep, status=Ticket.Status.RESOLVED)

    for url in (f"/customers/{customer.pk}/", f"/partners/{customer.partner_id}/", "/today/"):
        html = rep_client.get(url).content.decode()
        assert f"#{late.pk} Late one" in html and f"#{low.pk} Low one" in html, url
        assert html.index("Late one") < html.index("Low one"), url  # breached first
        assert "Done one" not in html, url
    customer_page = rep_client.get(f"/customers/{customer.pk}/").content.decode()
    assert f'href="/tickets/new/?customer={customer.pk}"' in customer_page


def test_the_navigation_links_to_the_tickets(rep_client):
    html = rep_client.get(LIST).content.decode()
    assert '<a href="/tickets/" aria-current="page">Tickets</a>' in html
