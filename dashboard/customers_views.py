"""The customer list, page and edit form (``/customers/…``, URL names ``customers:…``). Each view is form → service →
redirect, or a composition of the apps' selectors: leads (customers and their visibility), activities, and the
service tickets' slot. Every view that takes an id starts with ``customer_get_for_user`` (404 for anyone else's)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from activities.selectors import customer_activities
from dashboard.customer_actions import customer_quick_actions, customer_row_actions
from dashboard.views import _history_page
from leads.customer_forms import CustomerEditForms
from leads.customer_selectors import (
    customer_get_for_user,
    customer_list_filter,
    customer_list_page,
    customer_page,
)
from leads.customer_services import customer_save
from partners.selectors import user_sees_all_partners
from service.selectors import customer_open_tickets

PAGE_SIZE = 25
CONCURRENT_EDIT = "Someone else changed this customer's contacts or locations at the same time. Check and save again."


@login_required
@require_http_methods(["GET", "HEAD"])
def customer_list(request):
    """Queries: session, user, the visibility check, the segments (the filter's choices), the capped count with the
    page's ids (one statement), the page's rows with their primary contacts and location (one statement)."""
    filterset = customer_list_filter(user=request.user, data=request.GET)
    page = customer_list_page(filterset=filterset, page=request.GET.get("page"), per_page=PAGE_SIZE)
    for customer in page.rows:
        customer.quick_actions = customer_row_actions(customer)
    request.list_default_sort = filterset.default_sort
    return render(request, "customers/customer_list.html", {
        "filterset": filterset,
        "page": page,
        "customers": page.rows,
        "sees_all": user_sees_all_partners(request.user),
        "filters_active": filterset.is_filtered or bool(filterset.form.errors),
    })


def _lead_url(customer) -> str:
    """The page of the lead the customer came from, once the leads pages exist (``leads:detail``); "" before."""
    if customer.lead_id is None:
        return ""
    try:
        return reverse("leads:detail", args=[customer.lead_id])
    except NoReverseMatch:
        return ""


@login_required
@require_http_methods(["GET", "HEAD"])
def customer_detail(request, pk):
    """Queries (≤ 20, asserted in tests/customers): session, user, the visibility check, the customer with segment,
    partner, assignee and lead, its contacts, its locations, the default segment (only without a segment of its
    own), its planned engagements, reminders and past activities (three), and the open tickets (service)."""
    customer = customer_get_for_user(request.user, pk)
    page = customer_page(customer=customer)
    context = {
        "customer": customer,
        **page,
        **customer_activities(customer=customer, history_page=_history_page(request)),
        "quick_actions": customer_quick_actions(
            customer_id=customer.pk, name=customer.name, primary=page["primary_contacts"],
            ids=page["primary_contact_ids"], location=page["primary_location"],
        ),
        "lead_url": _lead_url(customer),
        # The partner's page only for those who see the partner (a customer of mine may come from another rep's).
        "partner_url": reverse("partners:detail", args=[customer.partner_id]) if customer.partner_id and (
            user_sees_all_partners(request.user) or customer.partner.assigned_to_id == request.user.pk) else "",
        # --- Service tickets (H3): the customer's open tickets, rendered by service/_customer_tickets.html ---
        "tickets": customer_open_tickets(customer=customer),
    }
    return render(request, "customers/customer_detail.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def customer_edit(request, pk):
    """Profile, contacts and locations in one form; saved by ``customer_save`` in one transaction, or nothing."""
    customer = customer_get_for_user(request.user, pk)
    name = customer.name  # the form's validation writes into ``customer``; the heading keeps the saved name
    forms = CustomerEditForms(request.POST if request.method == "POST" else None, user=request.user,
                              customer=customer)
    if request.method == "POST" and forms.is_valid():
        try:
            saved = customer_save(customer=customer, by=request.user, **forms.service_kwargs())
        except ValidationError as error:
            forms.add_error(error)
        except IntegrityError:
            forms.add_error(CONCURRENT_EDIT)
        else:
            messages.success(request, f"Customer “{saved.name}” saved.")
            return redirect("customers:detail", pk=saved.pk)
    return render(request, "customers/customer_form.html", {"customer": customer, "customer_name": name,
                                                            **forms.context()})
