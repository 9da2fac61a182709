"""The ticket pages under /tickets/: the list, a new ticket on a customer, the ticket page and its actions, and the
attachment download.

Every view that takes a ticket id starts with ``ticket_get_for_user`` (someone else's ticket is a 404 on GET and
POST alike, attachments included); a new ticket starts with ``customer_get_for_user``. Views are form → service →
redirect: a service's ValidationError goes back onto the form, shown on the ticket page next to its field (400),
with nothing written.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from leads.customer_selectors import customer_get_for_user
from partners.selectors import user_sees_all_partners
from service import services
from service.attachments import KINDS, allowed_extensions, max_bytes, megabytes
from service.forms import AssignForm, CommentForm, PriorityForm, StatusForm, TicketCreateForm
from service.models import Ticket
from service.selectors import (
    attachment_get_for_user,
    ticket_get_for_user,
    ticket_list_filter,
    ticket_list_page,
    ticket_page,
)

PAGE_SIZE = 25
GET_POST = ["GET", "HEAD", "POST"]
SAFE_TYPES = {kind.content_type for kind in KINDS.values()}


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _back(ticket: Ticket, anchor: str = "") -> HttpResponseRedirect:
    return redirect(reverse("tickets:detail", args=[ticket.pk]) + (f"#{anchor}" if anchor else ""))


# --- List ---------------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def ticket_list(request):
    """Open tickets (a rep's own by default), filtered and sorted; see ``service.filters``. Query budget: session,
    user, visibility, (a manager: the assignee choices), the capped count with the page's ids, the rows."""
    filterset = ticket_list_filter(user=request.user, data=request.GET)
    page = ticket_list_page(filterset=filterset, page=request.GET.get("page"), per_page=PAGE_SIZE)
    return render(request, "service/ticket_list.html", {
        "filterset": filterset, "form": filterset.form, "page": page, "tickets": page.rows, "now": timezone.now(),
        "sees_all": user_sees_all_partners(request.user), "summary": filterset.summary(),
    })


# --- New ticket ---------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(GET_POST)
def ticket_create(request):
    """``/tickets/new/?customer=<id>``: a new ticket on a customer the user sees (404 otherwise). Without a customer:
    a page pointing to the customers list (tickets are opened from a customer's page)."""
    raw = request.GET.get("customer", "")
    if not raw:
        return render(request, "service/ticket_form.html", {"customer": None, "form": None})
    if not raw.isdigit() or len(raw) > 18:
        raise Http404("No such customer.")
    customer = customer_get_for_user(request.user, int(raw))
    form = TicketCreateForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(customer=customer, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Ticket #{ticket.pk} opened.")
            return _back(ticket)
    return render(request, "service/ticket_form.html", {"customer": customer, "form": form},
                  status=400 if form.errors else 200)


# --- The ticket page and its actions ------------------------------------------------------------------------------------


def _detail(request, ticket: Ticket, *, status: int = 200, **forms):
    """The ticket page, with any form that failed (its errors shown next to its fields)."""
    context = {
        "ticket": ticket, "now": timezone.now(), **ticket_page(ticket=ticket),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "status_form": forms.get("status_form"), "priority_form": forms.get("priority_form"),
        "assign_form": forms.get("assign_form"),
        "can_reopen": services.can_reopen(ticket=ticket, by=request.user),
        "statuses": Ticket.Status.choices, "priorities": Ticket.Priority.choices,
        "status_labels": dict(Ticket.Status.choices), "priority_labels": dict(Ticket.Priority.choices),
        "max_upload": megabytes(max_bytes()), "allowed_types": ", ".join(f".{ext}" for ext in allowed_extensions()),
    }
    return render(request, "service/ticket_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def ticket_detail(request, pk):
    """Query budget: session, user, visibility, the ticket (with customer, partner, rep, assignee, creator), its
    comments, attachments, history, the assignable users (``service.selectors.ticket_page``)."""
    return _detail(request, ticket_get_for_user(request.user, pk))


def _action(request, pk, *, form_class, anchor: str, form_name: str, act, done):
    """A POST on the ticket page: validate, call the service, back to the page; errors re-render it (400). GET: the
    page itself."""
    ticket = ticket_get_for_user(request.user, pk)
    if request.method != "POST":
        return _back(ticket, anchor)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            changed = act(ticket, form.cleaned_data, form)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if changed:
                messages.success(request, done if isinstance(done, str) else done(ticket))
            return _back(ticket, anchor)
    return _detail(request, ticket, status=400, **{form_name: form})


@login_required
@require_http_methods(GET_POST)
def ticket_comment(request, pk):
    return _action(
        request, pk, form_class=CommentForm, anchor="comments", form_name="comment_form",
        act=lambda ticket, data, form: services.ticket_comment(ticket=ticket, by=request.user,
                                                               **form.service_kwargs()),
        done="Comment added.",
    )


@login_required
@require_http_methods(GET_POST)
def ticket_status(request, pk):
    return _action(
        request, pk, form_class=StatusForm, anchor="ticket-head", form_name="status_form",
        act=lambda ticket, data, form: services.ticket_set_status(ticket=ticket, by=request.user,
                                                                  status=data["status"], note=data["note"]),
        done=lambda ticket: f"Status: {ticket.get_status_display()}.",
    )


@login_required
@require_http_methods(GET_POST)
def ticket_priority(request, pk):
    return _action(
        request, pk, form_class=PriorityForm, anchor="ticket-head", form_name="priority_form",
        act=lambda ticket, data, form: services.ticket_set_priority(ticket=ticket, by=request.user,
                                                                    priority=data["priority"]),
        done=lambda ticket: f"Priority: {ticket.get_priority_display()}; due dates recomputed.",
    )


@login_required
@require_http_methods(GET_POST)
def ticket_assign(request, pk):
    return _action(
        request, pk, form_class=AssignForm, anchor="ticket-head", form_name="assign_form",
        act=lambda ticket, data, form: services.ticket_assign(ticket=ticket, by=request.user,
                                                              assignee=data["assignee"]),
        done=lambda ticket: (f"Assigned to {ticket.assignee.get_full_name() or ticket.assignee.get_username()}."
                             if ticket.assignee else "Nobody is assigned now."),
    )


# --- Attachments --------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def attachment_download(request, pk, attachment_pk):
    """The file, as a download only: ``Content-Disposition: attachment``, ``X-Content-Type-Options: nosniff``, the
    type checked at upload (anything else: ``application/octet-stream``), a sandboxing CSP and no caching by shared
    caches. A ticket or attachment the user may not see is a 404, as is a file missing from the storage."""
    attachment = attachment_get_for_user(request.user, pk, attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404("The file is missing.") from error
    content_type = attachment.content_type if attachment.content_type in SAFE_TYPES else "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response

