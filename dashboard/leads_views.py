"""The leads pages, under /leads/ (URL names ``leads:…``): the list, a lead's page, add/edit, and the stage actions
(move, convert, lose). The lead page composes two apps (leads, and activities for the lead's activities), hence here.

Every view that takes an id starts with ``leads.selectors.lead_get_for_user`` (404 for a lead the user may not see,
on every verb); a new lead's partner comes through ``partners.selectors.partner_get_for_user``. Writes go through
leads.services only: form → service → redirect with a message; a refused action (a closed lead, a double submit) is
a clear message and nothing written.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_POST
from markupsafe import Markup

from activities.selectors import lead_activities
from leads import services
from leads.forms import LeadConvertForm, LeadForm, LeadLoseForm, LeadMoveForm
from leads.models import Lead
from leads.selectors import (
    lead_customer_id,
    lead_get_for_user,
    lead_list_filter,
    lead_list_page,
    lead_page,
    partner_name_for_filter,
)
from partners.selectors import partner_get_for_user

PAGE_SIZE = 25
GET_POST = ["GET", "HEAD", "POST"]


@login_required
@require_http_methods(["GET", "HEAD"])
def lead_list(request):
    """The leads the user may see, newest first, filtered (leads.filters) and paged with a capped count."""
    filterset = lead_list_filter(user=request.user, data=request.GET)
    page = lead_list_page(filterset=filterset, page=request.GET.get("page"), per_page=PAGE_SIZE)
    form = filterset.form  # validated by the page's query
    picked = form.cleaned_data.get("partner")
    without_partner = request.GET.copy()
    without_partner.pop("partner", None)
    without_partner.pop("page", None)
    return render(request, "leads/lead_list.html", {
        "filterset": filterset,
        "form": form,
        "page": page,
        "leads": page.rows,
        "sees_all": filterset.sees_all,
        "filters_active": filterset.is_filtered or bool(form.errors),
        "filter_fields": filter_fields_html(form, sees_all=filterset.sees_all, filtered=filterset.is_filtered),
        # ``?partner=<id>`` (from a partner page or a row): its name, when the user sees that partner (one query).
        "picked_partner": picked,
        "picked_partner_name": partner_name_for_filter(user=request.user, pk=picked),
        "unpick_url": "?" + without_partner.urlencode() if without_partner else request.path,
    })


_FILTER_FIELDS_CACHE: dict[tuple, str] = {}


def filter_fields_html(form, *, sees_all: bool, filtered: bool) -> Markup:
    """The list's filter fields. With no filter set that HTML depends only on whether the user is a manager (and the
    language): rendered once per process per such key, not on every request — Django's widget templates cost ~3 ms a
    page, for a panel that is usually closed (as the partner list's ``filter_fields_html``)."""
    if sees_all:
        form.fields["assigned_to"].widget.attrs["data-options-url"] = reverse("partners:assignees")
    context = {"form": form, "sees_all": sees_all}
    if filtered or form.errors:
        return Markup(render_to_string("leads/_filter_fields.html", context))  # noqa: S704 (Jinja2's escaped output)
    key = (sees_all, get_language())
    if key not in _FILTER_FIELDS_CACHE:
        _FILTER_FIELDS_CACHE[key] = Markup(render_to_string("leads/_filter_fields.html", context))  # noqa: S704
    return _FILTER_FIELDS_CACHE[key]


@login_required
@require_http_methods(GET_POST)
def lead_create(request):
    """A new lead: from a partner's page (``?partner=<id>``: that partner, which the user must see, else 404) or from
    the list (a partner typed by code or name, or none). Assigned to the user unless they pick someone else."""
    partner = None
    if "partner" in request.GET:
        partner = partner_get_for_user(request.user, _id_or_404(request.GET["partner"]))
    form = LeadForm(request.POST if request.method == "POST" else None, user=request.user, partner=partner)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_create(by=request.user, **form.service_kwargs())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Lead “{lead.name}” added.")
            return redirect("leads:detail", pk=lead.pk)
    back = reverse("partners:detail", args=[partner.pk]) if partner else reverse("leads:list")
    return render(request, "leads/lead_form.html", {
        "form": form, "lead": None, "partner": partner, "back": back, "title": "New lead",
    })


@login_required
@require_http_methods(["GET", "HEAD"])
def lead_detail(request, pk):
    return _lead_page(request, lead_get_for_user(request.user, pk))


@login_required
@require_http_methods(GET_POST)
def lead_edit(request, pk):
    lead = lead_get_for_user(request.user, pk)
    name = lead.name  # the service's validation writes into ``lead``; the heading keeps the saved name
    form = LeadForm(request.POST if request.method == "POST" else None, user=request.user, lead=lead)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.lead_update(lead=lead, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if changed:
                messages.success(request, "Lead saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {
        "form": form, "lead": lead, "lead_name": name, "partner": None, "back": reverse("leads:detail", args=[lead.pk]),
        "title": "Edit lead",
    })


@login_required
@require_POST
def lead_move(request, pk):
    lead = lead_get_for_user(request.user, pk)
    form = LeadMoveForm(request.POST, lead=lead)
    if form.is_valid():
        try:
            services.lead_move(lead=lead, to_stage=form.cleaned_data["stage"], by=request.user)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _refused(request, lead, error)
            _add_errors(form, error)
        else:
            messages.success(request, f"Moved to {Lead.Stage(form.cleaned_data['stage']).label.lower()}.")
            return redirect("leads:detail", pk=lead.pk)
    return _lead_page(request, lead, move_form=form, status=400)


@login_required
@require_POST
def lead_convert(request, pk):
    """Convert: creates the customer, once. A second submit (double click, back and resubmit) is told so and sent to
    the existing customer's page (when the customers pages exist), else back to the lead."""
    lead = lead_get_for_user(request.user, pk)
    form = LeadConvertForm(request.POST, lead=lead)
    if form.is_valid():
        try:
            customer = services.lead_convert(lead=lead, by=request.user, value=form.cleaned_data["value"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                _add_errors(form, error)
            else:
                customer_id = lead_customer_id(lead=lead)
                if customer_id is None:  # lost: nothing to show but why
                    return _refused(request, lead, error)
                messages.info(request, "This lead was already converted: here is its customer.")
                return redirect(_customer_url(customer_id) or reverse("leads:detail", args=[lead.pk]))
        else:
            messages.success(request, f"Converted: “{customer.name}” is now a customer.")
            return redirect(_customer_url(customer.pk) or reverse("leads:detail", args=[lead.pk]))
    return _lead_page(request, lead, convert_form=form, status=400)


@login_required
@require_POST
def lead_lose(request, pk):
    lead = lead_get_for_user(request.user, pk)
    form = LeadLoseForm(request.POST)
    if form.is_valid():
        try:
            services.lead_lose(lead=lead, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _refused(request, lead, error)
            _add_errors(form, error)
        else:
            messages.success(request, "Marked lost.")
            return redirect("leads:detail", pk=lead.pk)
    return _lead_page(request, lead, lose_form=form, status=400)


def _lead_page(request, lead, *, move_form=None, convert_form=None, lose_form=None, status=200):
    """The lead page, with the bound form of a refused action (``status`` 400) or fresh ones.

    Queries after the lead (session, user, visibility check, the lead with partner, assignee and customer): the stage
    history with who moved it, whether the user may open the partner (reps only), the lead's activities."""
    customer = getattr(lead, "customer", None)  # select_related: no query
    partner_context = lead_page(lead=lead, user=request.user)
    follow_up_url = ""
    if partner_context["partner_visible"] and lead.stage in Lead.OPEN_STAGES:
        back = reverse("leads:detail", args=[lead.pk])  # saved, the form returns to the lead
        follow_up_url = reverse("activities:schedule", args=[lead.partner_id]) + "?" + urlencode(
            {"lead": lead.pk, "next": back})
    return render(request, "leads/lead_detail.html", {
        "lead": lead,
        **partner_context,
        **lead_activities(lead_id=lead.pk),
        "is_open": lead.stage in Lead.OPEN_STAGES,
        "customer": customer,
        "customer_url": _customer_url(customer.pk) if customer else "",
        "follow_up_url": follow_up_url,
        "move_form": move_form or LeadMoveForm(lead=lead),
        "convert_form": convert_form or LeadConvertForm(lead=lead),
        "lose_form": lose_form or LeadLoseForm(),
    }, status=status)


def _refused(request, lead, error: ValidationError):
    """A refused stage action (the lead is closed): the reason as a message, back to the lead; nothing was written."""
    messages.error(request, " ".join(error.messages))
    return redirect("leads:detail", pk=lead.pk)


def _customer_url(customer_id: int) -> str:
    """The customer's page, when the customers pages are installed (another part of issue 13); "" otherwise."""
    try:
        return reverse("customers:detail", args=[customer_id])
    except NoReverseMatch:
        return ""


def _add_errors(form, error: ValidationError) -> None:
    """A service's ValidationError onto the form: per field where the form has it (the service's ``partner`` is the
    form's ``partner_ref``), else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        field = "partner_ref" if field == "partner" else field
        form.add_error(field if field in form.fields else None, errors)


def _id_or_404(value: str) -> int:
    """A row id from the query string; anything but 1–18 digits is a 404 (no such row)."""
    value = value.strip()
    if not value.isdigit() or len(value) > 18 or not value.isascii():
        raise Http404
    return int(value)
