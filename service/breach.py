"""The beat's breach claim: tickets that passed a service-level due date are notified once (re-exported by
``service.services``; only this module sets the breach markers, and ``ticket_set_priority`` clears them when new due
dates put a ticket back on time).

Decisions:
- One conditional ``UPDATE … SET <kind>_breach_notified_at = now … RETURNING`` per kind (first response,
  resolution), in one transaction with the notifications it creates. The WHERE re-checks the marker is still empty:
  a second run, a parallel beat or a redelivered task finds nothing (a parallel UPDATE waits for the row lock, then
  re-reads the row and skips it). A crash between the claim and the commit claims nothing; the next tick does it.
- Only running tickets breach (new or open): a ticket waiting on the customer, on hold, resolved or closed has its
  clock stopped (``service.sla``). A first-response breach needs no response yet.
- Who is told: the assignee and the customer's rep (``Customer.assigned_to``), each once (the same person is told
  once), active users only. A ticket with neither is claimed silently. The notification is unique per (recipient,
  ``ticket_breach``, ``ticket:<id>:<kind>:<due timestamp>``): a new due date (priority change) that is breached again
  notifies again. The emails are enqueued after the commit (notifications.tasks.send_pending_emails).
- The partial indexes ``ticket_response_breach_idx`` / ``ticket_resolution_breach_idx`` hold only the tickets whose
  breach is still to be notified, so a tick reads a few rows whatever the number of tickets.
"""

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse

from leads.models import Customer
from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from notifications.tasks import send_pending_emails
from prm.formats import DATE_STYLES
from prm.tasks import enqueue_on_commit
from service.models import Ticket

KINDS = {
    # kind: (due column, marker column, extra condition, what it is called)
    "response": ("first_response_due_at", "response_breach_notified_at", "AND t.first_responded_at IS NULL",
                 "first response"),
    "resolution": ("resolution_due_at", "resolution_breach_notified_at", "", "resolution"),
}
_SENTINEL = 987654321


def _q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _claim_sql(kind: str) -> str:
    due, marker, extra, _label = KINDS[kind]
    users = _q(get_user_model())
    return f"""
        WITH claimed AS (
            UPDATE {_q(Ticket)} t SET {marker} = %(now)s
            WHERE t.status IN ('new', 'open') AND t.paused_at IS NULL AND t.{marker} IS NULL
              AND t.{due} <= %(now)s {extra}
            RETURNING t.id, t.subject, t.priority, t.{due} AS due_at, t.assignee_id, t.customer_id
        )
        SELECT c.id, c.subject, c.priority, c.due_at, cu.name,
               CASE WHEN a.is_active THEN c.assignee_id END,
               CASE WHEN r.is_active THEN cu.assigned_to_id END
        FROM claimed c
        JOIN {_q(Customer)} cu ON cu.id = c.customer_id
        LEFT JOIN {users} a ON a.id = c.assignee_id
        LEFT JOIN {users} r ON r.id = cu.assigned_to_id
        ORDER BY c.id
    """  # noqa: S608 (names from the models; values are parameters)


@transaction.atomic
def tickets_notify_breaches(*, now: datetime) -> int:
    """Claim every ticket whose first response or resolution came due by ``now`` and is not notified yet, and notify
    its assignee and its customer's rep (see the module's decisions). Returns how many notifications were created;
    a second call finds nothing. Two queries when nothing is due."""
    priorities = dict(Ticket.Priority.choices)
    link = reverse("tickets:detail", args=[_SENTINEL]).replace(str(_SENTINEL), "{}")
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)  # the organisation's: one text for every recipient
    items = []
    for kind in KINDS:
        label = KINDS[kind][3]
        with connection.cursor() as cursor:
            cursor.execute(_claim_sql(kind), {"now": now})
            rows = cursor.fetchall()
        for ticket_id, subject, priority, due_at, customer, assignee_id, rep_id in rows:
            title = f"Ticket #{ticket_id} past its {label} time: {subject} · {customer}"
            body = (f"{priorities.get(priority, priority)} priority; the {label} was due "
                    f"{DATE_STYLES['datetime'](due_at.astimezone(zone))} ({settings.TIME_ZONE}).")
            for recipient in dict.fromkeys(r for r in (assignee_id, rep_id) if r is not None):
                items.append(NotificationItem(
                    recipient_id=recipient, event=Notification.Event.TICKET_BREACH, title=title, body=body,
                    link=link.format(ticket_id), source_key=f"ticket:{ticket_id}:{kind}:{int(due_at.timestamp())}",
                ))
    created = notifications_create(items=items)
    if created:
        enqueue_on_commit(send_pending_emails)
    return created
