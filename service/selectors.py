"""Reads of service tickets. Who may see a ticket is decided here and only here.

A ticket is visible to its assignee and to everyone who may see its customer (``leads.customer_selectors
.customers_visible_to``: a rep sees the customers assigned to them and those brought by partners they see; a manager
sees all). Everything that takes a ticket id — every verb of every view, attachments included — starts from
``ticket_get_for_user``. Query budgets are in each docstring and asserted in tests/service.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from leads.customer_selectors import customers_visible_to
from leads.models import Customer
from partners.models import Partner
from partners.selectors import (
    COUNT_CAP,
    MAX_PAGE,
    ListPage,
    assignable_users,
    capped,
    count_and_ids,
    row_fields,
    user_sees_all_partners,
)
from service.filters import TicketFilter, breached_q
from service.models import Ticket, TicketAttachment, TicketComment, TicketStatusChange

SECTION_LIMIT = 10  # open tickets shown on a customer's, a partner's page and on Today
COMMENTS_LIMIT = 200  # the ticket page shows the latest this many comments (a thread longer than that says so)
HISTORY_LIMIT = 100


def tickets_scoped(queryset: QuerySet[Ticket], *, user: AbstractBaseUser) -> QuerySet[Ticket]:
    """``queryset`` (tickets, filtered or not) narrowed to those ``user`` may see: all for a manager; for a rep those
    assigned to them or on a customer they see. No query of its own besides the visibility check (once per request).

    For a rep this is ``id IN (<queryset>'s tickets assigned to them UNION ALL <queryset>'s tickets of their
    customers)``, each branch carrying the queryset's own filters, so each walks its index (the open tickets by
    assignee; the tickets by customer) and a list's count reads a rep's few thousand tickets, not 500,000. The same rule
    written as ``assignee = me OR customer_id IN (…)`` made PostgreSQL scan the whole table to count a rep's
    tickets of any status (the matches were fewer than the count's cap): 130–350 ms at 500k tickets instead of a few.
    Filter first, then scope: filters applied to the result are not pushed into the branches."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user_sees_all_partners(user):
        return queryset
    mine = queryset.filter(assignee=user).order_by().values("pk")
    theirs = queryset.filter(customer__in=customers_visible_to(user).values("pk")).order_by().values("pk")
    return queryset.filter(pk__in=mine.union(theirs, all=True))


def ticket_visible_to(user: AbstractBaseUser) -> QuerySet[Ticket]:
    """Every ticket ``user`` may see, as a queryset (``tickets_scoped`` of all tickets)."""
    return tickets_scoped(Ticket.objects.all(), user=user)


def ticket_get_for_user(user: AbstractBaseUser, pk: int, *, for_update: bool = False) -> Ticket:
    """The ticket ``pk`` if ``user`` may see it, else Http404. Preloads the customer (with its partner and rep), the
    assignee and who created it: one query after the visibility check. With ``for_update`` the ticket row is locked
    (call inside a transaction)."""
    queryset = tickets_scoped(Ticket.objects.filter(pk=pk), user=user).select_related(
        "customer__partner", "customer__assigned_to", "assignee", "created_by",
    )
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    return get_object_or_404(queryset)


def attachment_get_for_user(user: AbstractBaseUser, ticket_pk: int, pk: int) -> TicketAttachment:
    """The attachment ``pk`` of the ticket ``ticket_pk`` if ``user`` may see that ticket, else Http404 (another
    ticket's attachment id is a 404 too). One query after the visibility check."""
    visible = tickets_scoped(Ticket.objects.filter(pk=ticket_pk), user=user).values("pk")
    return get_object_or_404(TicketAttachment.objects.filter(ticket__in=visible), pk=pk)


# --- The tickets list -------------------------------------------------------------------------------------------------

# What a list row shows: only these columns are read.
LIST_ROW_FIELDS = (
    "subject", "type", "priority", "status", "created_at", "first_response_due_at", "resolution_due_at",
    "first_responded_at", "resolved_at", "paused_at", "customer_id", "assignee_id",
    "customer__name", "customer__company", "customer__partner_id",
    "assignee__username", "assignee__first_name", "assignee__last_name",
)


def ticket_list_filter(*, user: AbstractBaseUser, data: dict | None = None) -> TicketFilter:
    """The tickets list's FilterSet bound to ``data`` (``request.GET``), scoped to ``user``: status open (not resolved
    or closed) and, for a rep, assigned to them unless asked otherwise; its ``.qs`` is filtered, scoped
    (``tickets_scoped``, applied after the filters) and sorted. Queries to build it: the visibility check
    (once per request); a manager's assignee choices (one query, ``assignable_users``)."""
    sees_all = user_sees_all_partners(user)
    assignees = []
    if sees_all:
        assignees = list(assignable_users().values_list("username", "first_name", "last_name"))
    return TicketFilter(data if data is not None else {}, queryset=Ticket.objects.all(), user=user,
                        sees_all=sees_all, assignees=assignees,
                        scope=lambda queryset: tickets_scoped(queryset, user=user))


def ticket_list_page(*, filterset: TicketFilter, page: object, per_page: int, cap: int | None = None) -> ListPage:
    """Page ``page`` (1-based, or the raw ``?page=``; anything else is page 1) of ``filterset.qs``: two queries, the
    capped count with the page's ids (``partners.selectors.count_and_ids``, one statement), then the rows
    (``ticket_list_rows``). Past the end: the last page (one more count). The count stops at ``cap`` ("1,000+")."""
    cap = COUNT_CAP if cap is None else cap
    try:
        number = min(max(1, int(str(page))), MAX_PAGE)
    except ValueError:
        number = 1
    count, ids, _estimate = count_and_ids(filterset.qs, offset=(number - 1) * per_page, limit=per_page + 1, cap=cap)
    if not ids and number > 1:
        number = max(1, -(-count // per_page) if count <= cap else 1)
        count, ids, _estimate = count_and_ids(filterset.qs, offset=(number - 1) * per_page, limit=per_page + 1,
                                              cap=cap)
    has_next, ids = len(ids) > per_page, ids[:per_page]
    over = count > cap
    if over and not has_next and ids:
        count, over = (number - 1) * per_page + len(ids), False
    return ListPage(ticket_list_rows(ids), number, per_page, cap if over else count, over, False, has_next)


def ticket_list_rows(ids: list[int]) -> list[Ticket]:
    """The tickets ``ids`` in that order, with customer and assignee (JOINs), in one query; ``LIST_ROW_FIELDS`` only."""
    if not ids:
        return []
    found = {
        ticket.pk: ticket
        for ticket in Ticket.objects.filter(pk__in=ids).select_related("customer", "assignee")
        .only(*LIST_ROW_FIELDS).order_by()
    }
    return [found[pk] for pk in ids if pk in found]


# --- The ticket page --------------------------------------------------------------------------------------------------


def ticket_page(*, ticket: Ticket) -> dict:
    """What the ticket page shows besides the ticket row: comments (oldest first, the latest ``COMMENTS_LIMIT``, with
    author), attachments (with uploader), the history (with who changed it) and the users it may be assigned to.
    Four queries whatever the number of rows; the attachments are also grouped by comment (``comment_files``)."""
    comments = list(
        TicketComment.objects.filter(ticket=ticket).select_related("author").order_by("-created_at", "-id")
        [: COMMENTS_LIMIT + 1]
    )
    comments_more = len(comments) > COMMENTS_LIMIT
    comments = comments[:COMMENTS_LIMIT][::-1]
    attachments = list(TicketAttachment.objects.filter(ticket=ticket).select_related("uploaded_by")
                       .order_by("created_at", "id"))
    comment_files: dict[int, list[TicketAttachment]] = {}
    for attachment in attachments:
        if attachment.comment_id is not None:
            comment_files.setdefault(attachment.comment_id, []).append(attachment)
    history, history_more = capped(
        TicketStatusChange.objects.filter(ticket=ticket).select_related("changed_by").order_by("-changed_at", "-id"),
        HISTORY_LIMIT,
    )
    assignees = list(assignable_users().only("username", "first_name", "last_name"))
    return {
        "comments": comments, "comments_more": comments_more, "attachments": attachments,
        "comment_files": comment_files, "history": history, "history_more": history_more, "assignees": assignees,
    }


# --- Open tickets on other pages ----------------------------------------------------------------------------------------


@dataclass
class OpenTickets:
    """A few open tickets for a section of another page, most urgent first, and whether there are more."""

    rows: list[Ticket]
    more: bool
    list_url: str = ""  # the tickets list filtered to the same tickets


def _urgency_order(now: datetime) -> list:
    """Breached first, then the highest priority, then the earliest resolution due date."""
    rank = Case(*[When(priority=value, then=Value(points)) for value, points in Ticket.PRIORITY_RANK.items()],
                default=Value(0), output_field=IntegerField())
    breached = Case(When(breached_q(now), then=Value(1)), default=Value(0), output_field=IntegerField())
    return [breached.desc(), rank.desc(), "resolution_due_at", "id"]


def _open_tickets(queryset: QuerySet[Ticket], *, limit: int, now: datetime | None) -> tuple[list[Ticket], bool]:
    now = now or timezone.now()
    return capped(
        queryset.filter(status__in=Ticket.OPEN_STATUSES).select_related("customer", "assignee")
        .only(*LIST_ROW_FIELDS).order_by(*_urgency_order(now)),
        limit,
    )


def customer_open_tickets(*, customer: Customer, limit: int = SECTION_LIMIT, now: datetime | None = None
                          ) -> OpenTickets:
    """The customer page's open tickets (the caller scoped the customer: its tickets are visible with it), most
    urgent first, at most ``limit``. One query."""
    rows, more = _open_tickets(Ticket.objects.filter(customer=customer), limit=limit, now=now)
    return OpenTickets(rows, more, _list_url(assignee="any", customer=customer.pk))


def partner_open_tickets(*, partner: Partner, limit: int = SECTION_LIMIT, now: datetime | None = None
                         ) -> OpenTickets:
    """The open tickets of a partner's customers (the caller scoped the partner), most urgent first, at most
    ``limit``. One query (a join on the customer_partner_idx's customers)."""
    rows, more = _open_tickets(Ticket.objects.filter(customer__partner=partner), limit=limit, now=now)
    return OpenTickets(rows, more, _list_url(assignee="any", partner=partner.pk))


def tickets_needing(*, user: AbstractBaseUser, rep: str = "", limit: int = SECTION_LIMIT,
                    now: datetime | None = None) -> OpenTickets:
    """Today's "Tickets needing you": the open tickets assigned to ``user`` (a manager's Today filtered to a rep:
    that rep's, by username ``rep``), breached first, then the most urgent — ``_open_tickets``' rows and order. One
    query (the partial index of open tickets by assignee), a fixed statement (``_NEEDING_SQL``): the ORM compiled
    the urgency order's CASE expressions anew on every Today (1.2 ms of Python, docs/benchmarks.md)."""
    now = now or timezone.now()
    condition, assignee = ("u.username = %s", rep) if rep else ("t.assignee_id = %s", "me")
    with connection.cursor() as cursor:
        cursor.execute(
            _NEEDING_SQL.format(assignee=condition),  # noqa: S608 (constant SQL; values are parameters)
            [rep or user.pk, now, now, limit + 1],
        )
        found = cursor.fetchall()
    rows = []
    width = len(_NEEDING_TICKET)
    for values in found[:limit]:
        ticket = Ticket.from_db(connection.alias, _NEEDING_TICKET, values[:width])
        customer_row = values[width : width + len(_NEEDING_CUSTOMER)]
        Ticket.customer.field.set_cached_value(
            ticket, Customer.from_db(connection.alias, _NEEDING_CUSTOMER, customer_row)
        )
        assignee_row = values[width + len(_NEEDING_CUSTOMER) :]
        person = None if assignee_row[0] is None else get_user_model().from_db(
            connection.alias, _NEEDING_ASSIGNEE, assignee_row
        )
        Ticket.assignee.field.set_cached_value(ticket, person)
        rows.append(ticket)
    return OpenTickets(rows, len(found) > limit, _list_url(assignee=assignee))


# Today's open tickets of one assignee with their customer and assignee (``LIST_ROW_FIELDS``), in ``_open_tickets``'
# order: breached first (``service.filters.breached_q``: a due date passed as of now, or as of when a paused ticket's
# clock stopped), then by priority (``Ticket.PRIORITY_RANK``), then the earliest resolution due date.
_NEEDING_TICKET = row_fields(Ticket, LIST_ROW_FIELDS)
_NEEDING_CUSTOMER = row_fields(Customer, LIST_ROW_FIELDS, "customer__")
_NEEDING_ASSIGNEE = row_fields(get_user_model(), LIST_ROW_FIELDS, "assignee__")
_NEEDING_COLUMNS = ", ".join([
    *(f"t.{column}" for column in _NEEDING_TICKET), *(f"c.{column}" for column in _NEEDING_CUSTOMER),
    *(f"u.{column}" for column in _NEEDING_ASSIGNEE),
])
_OPEN_SQL = ", ".join(f"'{status}'" for status in Ticket.OPEN_STATUSES)
_RANK_SQL = " ".join(f"WHEN '{value}' THEN {points}" for value, points in Ticket.PRIORITY_RANK.items())
_NEEDING_SQL = f"""
    SELECT {_NEEDING_COLUMNS}
    FROM {Ticket._meta.db_table} t JOIN {Customer._meta.db_table} c ON c.id = t.customer_id
    LEFT JOIN {get_user_model()._meta.db_table} u ON u.id = t.assignee_id
    WHERE t.status IN ({_OPEN_SQL}) AND {{assignee}}
    ORDER BY CASE WHEN t.resolution_due_at < COALESCE(t.paused_at, %s)
                    OR (t.first_responded_at IS NULL AND t.first_response_due_at < COALESCE(t.paused_at, %s))
             THEN 1 ELSE 0 END DESC,
             CASE t.priority {_RANK_SQL} ELSE 0 END DESC, t.resolution_due_at, t.id
    LIMIT %s
"""  # noqa: S608 (model metadata and constants only; values are parameters)


def _list_url(**params) -> str:
    return f"{reverse('tickets:list')}?{urlencode(params)}"
