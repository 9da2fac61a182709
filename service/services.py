"""Writes of service tickets: the only code that writes the service app's tables (the breach claim, which sets the
breach markers, is ``service.breach``; re-exported here).

Decisions:
- Every function is atomic and locks the ticket row first (``SELECT … FOR UPDATE``), so two requests on one ticket
  run one after the other and each sees the other's result. A change to what the ticket already is (the same status,
  priority or assignee) changes nothing and returns False: a double-submitted form acts once.
- A double-submitted creation, comment or upload (the same text or file by the same user within
  ``DOUBLE_SUBMIT_SECONDS``) returns the first one instead of writing a second (serialised by the ticket's row lock,
  or for a new ticket by an advisory lock on its customer).
- The service-level clock (``service.sla``): due dates from the priority's ServiceLevel at creation; recomputed from
  ``created_at`` on a priority change; stopped while waiting on the customer, on hold, resolved or closed
  (``paused_at``) and shifted forward by the stopped time when the ticket runs again.
- Status rules: any status may follow any other, except that reopening a *closed* ticket (to any other status) is
  for a manager or the ticket's assignee: closed is final for everybody else (a resolved ticket may be reopened by
  anyone who sees it: the customer came back). Resolving sets ``resolved_at``; closing sets ``closed_at`` (and
  ``resolved_at`` when it was not resolved before); leaving them clears them.
- The first public (not internal) comment is the first response: it sets ``first_responded_at`` and moves a new
  ticket to open. Every user of this app is staff (customers have no login), so every public comment is a reply.
  A closed ticket takes no comments or files (reopen it first).
- Assigning tells the new assignee (a ``ticket_assigned`` notification) unless they assigned themselves. Only
  active sales reps and managers can be assignees (``partners.selectors.assignable_users``).
"""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leads.models import Customer
from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from notifications.tasks import send_pending_emails
from partners.selectors import assignable_users, user_sees_all_partners
from prm import pg
from prm.tasks import enqueue_on_commit
from service.attachments import attachment_check
from service.breach import tickets_notify_breaches  # noqa: F401 (re-exported: the app's writes are here)
from service.models import ServiceLevel, Ticket, TicketAttachment, TicketComment, TicketStatusChange
from service.sla import DEFAULT_LEVELS, due_dates

User = AbstractBaseUser
DOUBLE_SUBMIT_SECONDS = 60
Status = Ticket.Status


# --- Service levels ---------------------------------------------------------------------------------------------------


def service_level_for(priority: str) -> tuple[int, int]:
    """(first response minutes, resolution minutes) of ``priority``: its ServiceLevel row (one query), or the
    migration's default when the row is missing."""
    row = ServiceLevel.objects.filter(priority=priority).values_list("first_response_minutes",
                                                                      "resolution_minutes").first()
    return row or DEFAULT_LEVELS[priority]


@transaction.atomic
def service_level_save(*, level: ServiceLevel) -> ServiceLevel:
    """Save a service level (the admin's): validated on its fields (1 minute to a year; resolution not before the
    first response). Tickets keep the dates they were given; new and re-prioritised tickets get the new ones."""
    level.full_clean(validate_unique=False)
    if level.resolution_minutes < level.first_response_minutes:
        raise ValidationError({"resolution_minutes": "The resolution time must not be shorter than the first "
                                                     "response time."})
    level.save()
    return level


# --- Helpers ----------------------------------------------------------------------------------------------------------


def _lock(ticket: Ticket) -> Ticket:
    """The ticket's row, locked for the rest of the transaction and re-read (another request may have changed it)."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _refresh(target: Ticket, source: Ticket) -> None:
    """Copy the saved row's values onto the caller's instance (keeping its preloaded relations)."""
    for field in Ticket._meta.concrete_fields:
        if not field.is_relation:
            setattr(target, field.attname, getattr(source, field.attname))
    target.assignee_id = source.assignee_id


def _check_assignee(assignee: User | None) -> None:
    if assignee is not None and not assignable_users().filter(pk=assignee.pk).exists():
        raise ValidationError({"assignee": f"“{assignee.get_username()}” cannot take tickets: choose an active sales "
                                           "rep or manager."})


def _user_label(user: User | None) -> str:
    if user is None:
        return ""
    return (user.get_full_name() or user.get_username())[:150]


def _history(ticket: Ticket, field: str, old: str, new: str, by: User | None, now: datetime,
             note: str = "") -> TicketStatusChange:
    return TicketStatusChange.objects.create(ticket=ticket, field=field, from_value=old, to_value=new, note=note[:300],
                                             changed_by=by, changed_at=now)


def _ticket_link(ticket: Ticket) -> str:
    return reverse("tickets:detail", args=[ticket.pk])


def _notify_assigned(ticket: Ticket, assignee: User, by: User | None, change: TicketStatusChange) -> None:
    if by is not None and assignee.pk == by.pk:
        return
    customer = Customer.objects.filter(pk=ticket.customer_id).values_list("name", flat=True).first() or ""
    created = notifications_create(items=[NotificationItem(
        recipient_id=assignee.pk, event=Notification.Event.TICKET_ASSIGNED,
        title=f"Ticket #{ticket.pk} assigned to you: {ticket.subject} · {customer}",
        body=f"{ticket.get_priority_display()} priority. Resolution due {_when(ticket.resolution_due_at)}.",
        link=_ticket_link(ticket), source_key=f"ticket:{ticket.pk}:assigned:{change.pk}",
    )])
    if created:
        enqueue_on_commit(send_pending_emails)


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%d %b %Y, %H:%M}"


# --- Create -----------------------------------------------------------------------------------------------------------


@transaction.atomic
def ticket_create(
    *, customer: Customer, by: User | None, subject: str, description: str = "", type: str = Ticket.Type.QUESTION,
    priority: str = Ticket.Priority.NORMAL, assignee: User | None = None, now: datetime | None = None,
) -> Ticket:
    """Open a ticket on ``customer`` (the caller checked the user may see it), due by its priority's service level.
    A second identical request by the same user within ``DOUBLE_SUBMIT_SECONDS`` returns the first ticket."""
    now = now or timezone.now()
    subject, description = (subject or "").strip(), (description or "").strip()
    pg.advisory_xact_lock(f"service.ticket_create:{customer.pk}")
    if by is not None:
        duplicate = Ticket.objects.filter(
            customer=customer, created_by=by, subject=subject, description=description,
            created_at__gte=now - timedelta(seconds=DOUBLE_SUBMIT_SECONDS),
        ).order_by("-id").first()
        if duplicate is not None:
            return duplicate
    _check_assignee(assignee)
    ticket = Ticket(customer=customer, subject=subject, description=description, type=type, priority=priority,
                    status=Status.NEW, assignee=assignee, created_by=by, created_at=now,
                    first_response_due_at=now, resolution_due_at=now)
    if priority in Ticket.Priority.values:
        ticket.first_response_due_at, ticket.resolution_due_at = due_dates(created_at=now,
                                                                           **_minutes(priority))
    ticket.full_clean(exclude=["customer", "assignee", "created_by"])
    ticket.save()
    _history(ticket, TicketStatusChange.Field.STATUS, "", Status.NEW, by, now)
    if assignee is not None:
        change = _history(ticket, TicketStatusChange.Field.ASSIGNEE, "", _user_label(assignee), by, now)
        _notify_assigned(ticket, assignee, by, change)
    return ticket


def _minutes(priority: str) -> dict:
    first, resolution = service_level_for(priority)
    return {"first_response_minutes": first, "resolution_minutes": resolution}


# --- Comment and attach -----------------------------------------------------------------------------------------------


@transaction.atomic
def ticket_comment(
    *, ticket: Ticket, by: User | None, body: str, internal: bool = False, upload=None, now: datetime | None = None,
) -> TicketComment:
    """Add a comment (and optionally one file) to ``ticket``. The first public comment is the first response (a new
    ticket becomes open). Raises ValidationError naming ``body`` or ``file``; nothing is written then."""
    now = now or timezone.now()
    locked = _lock(ticket)
    if locked.status == Status.CLOSED:
        raise ValidationError({"body": "This ticket is closed: reopen it to add a comment."})
    body = (body or "").strip()
    if not body and upload is None:
        raise ValidationError({"body": "Write a comment (or attach a file)."})
    if not body:
        body = "Attached a file."
    if by is not None:
        duplicate = TicketComment.objects.filter(
            ticket=locked, author=by, body=body, internal=internal,
            created_at__gte=now - timedelta(seconds=DOUBLE_SUBMIT_SECONDS),
        ).order_by("-id").first()
        if duplicate is not None:
            return duplicate
    comment = TicketComment(ticket=locked, author=by, body=body, internal=internal, created_at=now)
    comment.full_clean(exclude=["ticket", "author"])
    comment.save()
    if not internal and locked.first_responded_at is None:
        locked.first_responded_at = now
        fields = ["first_responded_at", "updated_at"]
        if locked.status == Status.NEW:
            _history(locked, TicketStatusChange.Field.STATUS, Status.NEW, Status.OPEN, by, now, "First response")
            locked.status = Status.OPEN
            fields.append("status")
        locked.save(update_fields=fields)
    if upload is not None:  # last: what could fail after the file is stored is only the commit
        ticket_attach(ticket=locked, by=by, upload=upload, comment=comment, now=now)
    _refresh(ticket, locked)
    return comment


@transaction.atomic
def ticket_attach(
    *, ticket: Ticket, by: User | None, upload, comment: TicketComment | None = None, now: datetime | None = None,
) -> TicketAttachment:
    """Attach ``upload`` (a Django ``UploadedFile``) to ``ticket``, after ``service.attachments.attachment_check``
    (type by extension and content, size): stored through Django's storage under a random name. A file that fails
    the check raises ValidationError on ``file`` and nothing is stored; a failure after the file was stored removes
    it again."""
    now = now or timezone.now()
    locked = _lock(ticket)
    if locked.status == Status.CLOSED:
        raise ValidationError({"file": "This ticket is closed: reopen it to attach a file."})
    checked = attachment_check(upload)
    if by is not None and comment is None:
        duplicate = TicketAttachment.objects.filter(
            ticket=locked, uploaded_by=by, original_name=checked.name, size=checked.size,
            created_at__gte=now - timedelta(seconds=DOUBLE_SUBMIT_SECONDS),
        ).order_by("-id").first()
        if duplicate is not None:
            return duplicate
    attachment = TicketAttachment(ticket=locked, comment=comment, original_name=checked.name,
                                  content_type=checked.content_type, size=checked.size, uploaded_by=by,
                                  created_at=now)
    upload.seek(0)
    attachment.file.save(checked.name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)  # no row names it: remove it (a failed commit later can leave an
        raise  # unreferenced file behind, never a row without its file)
    return attachment


# --- Status, priority, assignee ---------------------------------------------------------------------------------------


def can_reopen(*, ticket: Ticket, by: User | None) -> bool:
    """Whether ``by`` may take ``ticket`` out of closed: a manager (sees every partner) or the ticket's assignee."""
    if by is None:
        return True  # the system (a migration, a command) is not a user
    return ticket.assignee_id == by.pk or user_sees_all_partners(by)


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, by: User | None, status: str, note: str = "",
                      now: datetime | None = None) -> bool:
    """Move ``ticket`` to ``status`` (see the module's rules). Returns False when it already was there. Raises
    ValidationError naming ``status`` (an unknown status; reopening a closed ticket without the right)."""
    now = now or timezone.now()
    if status not in Status.values:
        raise ValidationError({"status": f"“{str(status)[:30]}” is not a ticket status."})
    locked = _lock(ticket)
    old = locked.status
    if status == old:
        _refresh(ticket, locked)
        return False
    if old == Status.CLOSED and not can_reopen(ticket=locked, by=by):
        raise ValidationError({"status": "Only the ticket's assignee or a manager can reopen a closed ticket."})
    fields = {"status", "updated_at"}
    was_running, runs = old in Ticket.RUNNING_STATUSES, status in Ticket.RUNNING_STATUSES
    # Leaving resolved/closed: they are undone (closed → resolved keeps the resolution).
    if old == Status.CLOSED:
        locked.closed_at = None
        fields.add("closed_at")
    if old in Ticket.DONE_STATUSES and status not in Ticket.DONE_STATUSES:
        locked.resolved_at = None
        fields.add("resolved_at")
    if status == Status.RESOLVED and locked.resolved_at is None:
        locked.resolved_at = now
        fields.add("resolved_at")
    if status == Status.CLOSED:
        locked.closed_at = now
        locked.resolved_at = locked.resolved_at or now
        fields |= {"closed_at", "resolved_at"}
    # The clock: stops when leaving new/open, runs again (shifted by the stopped time) when coming back to them.
    if was_running and not runs:
        locked.paused_at = now
        fields.add("paused_at")
    elif runs and not was_running and locked.paused_at is not None:
        stopped = max(now - locked.paused_at, timedelta())
        locked.paused_total += stopped
        if locked.first_responded_at is None:
            locked.first_response_due_at += stopped
        locked.resolution_due_at += stopped
        locked.paused_at = None
        fields |= {"paused_at", "paused_total", "first_response_due_at", "resolution_due_at"}
    locked.status = status
    locked.save(update_fields=sorted(fields))
    _history(locked, TicketStatusChange.Field.STATUS, old, status, by, now, (note or "").strip())
    _refresh(ticket, locked)
    return True


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, by: User | None, priority: str, now: datetime | None = None) -> bool:
    """Change the priority and recompute both due dates from ``created_at`` with the new level and the time the
    clock was stopped so far; a breach already notified is notified again only if the new dates put the ticket back
    on time and it then breaches them. Returns False when it already had that priority."""
    now = now or timezone.now()
    if priority not in Ticket.Priority.values:
        raise ValidationError({"priority": f"“{str(priority)[:30]}” is not a ticket priority."})
    locked = _lock(ticket)
    old = locked.priority
    if priority == old:
        _refresh(ticket, locked)
        return False
    response_due, resolution_due = due_dates(created_at=locked.created_at, paused_total=locked.paused_total,
                                             **_minutes(priority))
    reference = locked.paused_at or now
    fields = ["priority", "first_response_due_at", "resolution_due_at", "updated_at"]
    if locked.first_responded_at is None:
        locked.first_response_due_at = response_due
    else:  # answered: its due date stays what it was measured against, within the new resolution due date
        locked.first_response_due_at = min(locked.first_response_due_at, resolution_due)
    locked.resolution_due_at = resolution_due
    if locked.response_breach_notified_at and locked.first_response_due_at > reference:
        locked.response_breach_notified_at = None
        fields.append("response_breach_notified_at")
    if locked.resolution_breach_notified_at and locked.resolution_due_at > reference:
        locked.resolution_breach_notified_at = None
        fields.append("resolution_breach_notified_at")
    locked.priority = priority
    locked.save(update_fields=fields)
    _history(locked, TicketStatusChange.Field.PRIORITY, old, priority, by, now)
    _refresh(ticket, locked)
    return True


@transaction.atomic
def ticket_assign(*, ticket: Ticket, by: User | None, assignee: User | None, now: datetime | None = None) -> bool:
    """Give ``ticket`` to ``assignee`` (None: nobody), and tell them. Returns False when it already was theirs."""
    now = now or timezone.now()
    locked = _lock(ticket)
    if (assignee.pk if assignee else None) == locked.assignee_id:
        _refresh(ticket, locked)
        return False
    _check_assignee(assignee)
    old = _user_label(locked.assignee) if locked.assignee_id else ""
    locked.assignee = assignee
    locked.save(update_fields=["assignee", "updated_at"])
    change = _history(locked, TicketStatusChange.Field.ASSIGNEE, old, _user_label(assignee), by, now)
    if assignee is not None:
        _notify_assigned(locked, assignee, by, change)
    _refresh(ticket, locked)
    ticket.assignee = assignee
    return True
